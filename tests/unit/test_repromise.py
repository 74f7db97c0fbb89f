"""Re-promising backorders on plain data: claim order, free stock, lines that cannot move."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from domain.inventory.atp import AtpInputs, Claim, Receipt
from domain.sales.promise import Backorder, repromised

TODAY = date(2026, 3, 2)
ITEM = 7


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def line(line_id: int, order_id: int, quantity: str, promised: int = 20) -> Backorder:
    return Backorder(line_id, order_id, ITEM, D(quantity), day(promised))


def inputs(now: str = "0", *receipts: tuple[int, str]) -> dict[int, AtpInputs]:
    return {ITEM: AtpInputs(D(now), 5, [Receipt(day(d), D(q)) for d, q in receipts],
                            claims=[Claim(day(1), D("999"))])}  # ignored: the lines are the claims


def test_earlier_lines_claim_receipts_first() -> None:
    lines = [line(1, 10, "4"), line(2, 11, "6"), line(3, 12, "1")]
    assert repromised(lines, inputs("0", (20, "10")), TODAY, {10, 11, 12}) == {
        1: day(20), 2: day(20), 3: day(5)}  # the third is left the lead time
    # the receipt moved earlier: every line it covers follows
    assert repromised(lines, inputs("0", (12, "10")), TODAY, {10, 11, 12}) == {
        1: day(12), 2: day(12), 3: day(5)}


def test_free_stock_is_promised_today_to_the_earliest_claims() -> None:
    lines = [line(1, 10, "4"), line(2, 11, "6")]
    assert repromised(lines, inputs("7", (20, "3")), TODAY, {10, 11}) == {1: TODAY, 2: day(20)}
    assert repromised(lines, inputs("10"), TODAY, {10, 11}) == {1: TODAY, 2: TODAY}
    # without stock or receipts: lead time for both
    assert repromised(lines, inputs("-1"), TODAY, {10, 11}) == {1: day(5), 2: day(5)}


def test_a_line_that_cannot_move_keeps_its_date_and_still_claims() -> None:
    lines = [line(1, 10, "4", promised=30), line(2, 11, "6")]
    assert repromised(lines, inputs("0", (20, "6")), TODAY, {11}) == {2: day(5)}
    assert repromised([line(1, 99, "1")], {}, TODAY, {99}) == {}  # unknown item: left alone


def test_lines_of_a_made_item_claim_its_components_in_order() -> None:
    from domain.inventory.atp import Component

    component = 8
    items = {
        ITEM: AtpInputs(D(0), 2, procurement="MAKE", components=(Component(component, D(2)),),
                        claims=[Claim(day(1), D("999"))]),  # ignored: the lines are the claims
        component: AtpInputs(D(10), 9),
    }
    lines = [line(1, 10, "5"), line(2, 11, "1"), line(3, 12, "1")]
    assert repromised(lines, items, TODAY, {10, 11, 12}) == {1: day(2), 2: day(11), 3: day(11)}
    # the first cannot move: it still takes the components it was promised from
    assert repromised(lines, items, TODAY, {11, 12}) == {2: day(11), 3: day(11)}
    # a receipt of the item covers the first line: the components are left to the others
    items[ITEM].receipts.append(Receipt(day(4), D("5")))
    assert repromised(lines, items, TODAY, {10, 11, 12}) == {1: day(4), 2: day(2), 3: day(2)}
