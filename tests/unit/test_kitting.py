"""Kitting arithmetic: allocation once per item, shortages, cover dates, buildable units."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from domain.inventory.atp import Receipt
from domain.production.kitting import (
    Component,
    KitLine,
    Need,
    allocate,
    round_down,
    sales_order_kit,
    work_order_kit,
)

TODAY = date(2026, 3, 2)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def test_own_reservation_then_free_stock() -> None:
    lines = allocate([Need(1, D(5), own=D(2))], {1: D(10)}, {}, TODAY)
    assert lines == [KitLine(1, D(5), D(5), D(0), None)]


def test_free_stock_is_counted_once_across_needs_of_one_item() -> None:
    needs = [Need(1, D(4)), Need(2, D(1)), Need(1, D(4)), Need(1, D(3), own=D(1))]
    lines = allocate(needs, {1: D(6), 2: D(5)}, {}, TODAY)
    assert [(ln.available, ln.shortage) for ln in lines] == [
        (D(4), D(0)), (D(1), D(0)), (D(2), D(2)), (D(1), D(2))]
    assert sum(ln.available - need.own for ln, need in zip(lines, needs, strict=True) if ln.item_id == 1) == 6


def test_negative_free_stock_and_required_count_as_zero() -> None:
    lines = allocate([Need(1, D(2)), Need(1, D(-1))], {1: D(-3)}, {}, TODAY)
    assert [(ln.required, ln.available, ln.shortage) for ln in lines] == [
        (D(2), D(0), D(2)), (D(0), D(0), D(0))]


def test_cover_date_is_cumulative_over_receipts_and_earlier_shortages() -> None:
    receipts = {1: [Receipt(day(9), D(2)), Receipt(day(3), D(1)), Receipt(day(-4), D(1))]}
    lines = allocate([Need(1, D(1)), Need(1, D(2)), Need(1, D(5))], {}, receipts, TODAY)
    # an overdue receipt counts from today; the second shortage needs receipts 1..3
    assert [ln.covered_on for ln in lines] == [TODAY, day(9), None]


def test_sales_order_kit_counts_lines_covered() -> None:
    kit = sales_order_kit([Need(1, D(2)), Need(1, D(2)), Need(2, D(1), own=D(1))], {1: D(3)}, {}, TODAY)
    assert (kit.complete, kit.buildable) == (False, D(2))
    full = sales_order_kit([Need(1, D(2))], {1: D(3)}, {}, TODAY)
    assert (full.complete, full.buildable) == (True, D(1))


def test_round_down_by_unit_of_measure() -> None:
    assert round_down(D("3.999"), "pcs") == D(3)
    assert round_down(D("3.999"), "EA") == D(3)
    assert round_down(D("3.99999999"), "kg") == D("3.999999")


def test_work_order_buildable_is_the_scarcest_component() -> None:
    # 10 chairs: 4.4 legs (scrap) and 1 seat each; 30 legs and 12 seats free
    comps = [Component(1, D(44), D("4.4"), D(1)), Component(2, D(10), D(1), D(1))]
    kit = work_order_kit(comps, D(10), D(0), "pcs", {1: D(30), 2: D(12)}, {1: [Receipt(day(4), D(20))]}, TODAY)
    assert kit.buildable == D(6)  # 30 / 4.4 = 6.8
    assert not kit.complete
    assert [(ln.available, ln.shortage, ln.covered_on) for ln in kit.lines] == [
        (D(30), D(14), day(4)), (D(10), D(0), None)]
    # by kilogram: not rounded to whole units
    assert work_order_kit(comps, D(10), D(0), "kg", {1: D(30), 2: D(12)}, {}, TODAY).buildable == D("6.818181")


def test_work_order_buildable_counts_issued_material_and_completed_units() -> None:
    # released order of 10, all legs issued, 4 built; seats: 5 issued, 3 free
    comps = [Component(1, D(0), D(44), D(10), issued=D(44)), Component(2, D(5), D(10), D(10), issued=D(5))]
    kit = work_order_kit(comps, D(6), D(4), "pcs", {2: D(3)}, {}, TODAY)
    assert kit.buildable == D(4)  # seats: 5 + 3 = 8 units in all, 4 built
    assert not kit.complete
    # one item used by two components: stock shared once; never above the remaining quantity
    shared = [Component(1, D(6), D(2), D(1)), Component(1, D(3), D(1), D(1))]
    kit = work_order_kit(shared, D(3), D(0), "pcs", {1: D(100)}, {}, TODAY)
    assert (kit.buildable, kit.complete) == (D(3), True)
    kit = work_order_kit(shared, D(3), D(0), "pcs", {1: D(7)}, {}, TODAY)
    assert (kit.buildable, [ln.available for ln in kit.lines]) == (D(1), [D(6), D(1)])
    assert work_order_kit([], D(5), D(0), "pcs", {}, {}, TODAY).buildable == D(5)
