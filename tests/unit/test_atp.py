"""Available to promise on plain data: stock, receipts, claims, lead time, BOM depth."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from domain.inventory.atp import AtpInputs, Claim, Component, Receipt, available_to_promise, cumulative_lead_time

TODAY = date(2026, 3, 2)


def BomNode(procurement: str, lead: int, components: tuple[int, ...] = ()) -> AtpInputs:
    return AtpInputs(D(0), lead, procurement=procurement, components=tuple(Component(c, D(1)) for c in components))


def atp(qty: str, now: str = "0", days: int = 7, **kw: object) -> tuple[D, date]:
    result = available_to_promise(D(qty), today=TODAY, available_now=D(now), replenishment_days=days,
                                  **kw)  # type: ignore[arg-type]
    return result.available_now, result.date


def test_stock_only() -> None:
    assert atp("5", now="10") == (D("10"), TODAY)
    assert atp("10", now="10") == (D("10"), TODAY)
    assert atp("10.000001", now="10") == (D("10"), TODAY + timedelta(days=7))
    assert atp("1", now="-2") == (D("0"), TODAY + timedelta(days=7))  # never negative


def test_stock_and_receipts() -> None:
    receipts = [Receipt(TODAY + timedelta(days=9), D("5")), Receipt(TODAY + timedelta(days=3), D("5"))]
    assert atp("12", now="4", receipts=receipts) == (D("4"), TODAY + timedelta(days=9))
    assert atp("8", now="4", receipts=receipts) == (D("4"), TODAY + timedelta(days=3))
    # more than stock and every receipt: lead time
    assert atp("15", now="4", receipts=receipts) == (D("4"), TODAY + timedelta(days=7))
    # an overdue receipt counts as arriving today
    late = [Receipt(TODAY - timedelta(days=2), D("5"))]
    assert atp("3", receipts=late) == (D("0"), TODAY)


def test_claims_consume_the_earliest_receipts() -> None:
    receipts = [Receipt(TODAY + timedelta(days=3), D("5")), Receipt(TODAY + timedelta(days=9), D("5"))]
    claims = [Claim(TODAY + timedelta(days=3), D("4"))]
    assert atp("1", receipts=receipts, claims=claims)[1] == TODAY + timedelta(days=3)
    assert atp("2", receipts=receipts, claims=claims)[1] == TODAY + timedelta(days=9)
    claims = [Claim(TODAY + timedelta(days=3), D("10"))]
    assert atp("1", receipts=receipts, claims=claims)[1] == TODAY + timedelta(days=7)


def test_lead_time_of_a_bought_item() -> None:
    nodes = {1: BomNode("BUY", 12, ())}
    assert cumulative_lead_time(1, nodes) == 12
    assert cumulative_lead_time(99, nodes) == 0


def test_make_item_takes_the_longest_chain_of_a_three_level_bom() -> None:
    nodes = {
        1: BomNode("MAKE", 2, (2, 3)),      # finished good
        2: BomNode("MAKE", 3, (4, 5)),      # sub-assembly
        3: BomNode("BUY", 6, ()),
        4: BomNode("BUY", 10, ()),
        5: BomNode("BUY", 1, ()),
    }
    assert cumulative_lead_time(2, nodes) == 13
    assert cumulative_lead_time(1, nodes) == 2 + 3 + 10
    # a bought item's BOM (if any) does not count
    nodes[6] = BomNode("BUY", 4, (4,))
    assert cumulative_lead_time(6, nodes) == 4


def test_cycle_safe() -> None:
    nodes = {1: BomNode("MAKE", 1, (2,)), 2: BomNode("MAKE", 2, (3,)), 3: BomNode("MAKE", 3, (1,))}
    assert cumulative_lead_time(1, nodes) == 6
    assert cumulative_lead_time(3, nodes) == 6
    assert cumulative_lead_time(4, {4: BomNode("MAKE", 5, (4,))}) == 5
