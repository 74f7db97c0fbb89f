"""What a work order's output comes into stock at before costing (domain.production.output_cost)."""

from __future__ import annotations

from decimal import Decimal

from domain.production.output_cost import ComponentCost, provisional_unit_cost

D = Decimal


def test_kitted_order_reported_in_part() -> None:
    """An order of 4 needs 8.8 R1 (2 a unit, 10 % line scrap) and 4 R2. Everything was kitted:
    8.8 R1 issued for 26.40 (3.00 each) and 4 R2 for 20.00 (5.00 each): 46.40 / 4 = 11.60 a
    unit, whatever part of the order is reported."""
    components = [ComponentCost(D("8.8"), D("8.8"), D("26.40"), D(9)), ComponentCost(D(4), D(4), D("20.00"), D(9))]
    assert provisional_unit_cost(D(4), components) == D("11.60")


def test_backflushed_first_unit_and_a_component_not_issued_yet() -> None:
    """The first of 4 reported with backflush: 2.2 R1 issued for 6.60 (3.00 each); R2 not
    issued yet counts at its cost now, 5.00: (3.00 × 8.8 + 5.00 × 4) / 4 = 46.40 / 4 = 11.60,
    the same as when kitted, not 6.60 for one unit's worth of issues."""
    components = [ComponentCost(D("8.8"), D("2.2"), D("6.60"), D(9)), ComponentCost(D(4), D(0), D(0), D(5))]
    assert provisional_unit_cost(D(4), components) == D("11.60")


def test_without_components_there_is_nothing_to_go_by() -> None:
    assert provisional_unit_cost(D(4), []) is None
