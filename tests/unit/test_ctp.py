"""Capable to promise on plain data: made items, shared components, component claims."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.inventory.atp import (
    Atp,
    AtpInputs,
    Claim,
    Component,
    Promiser,
    Receipt,
    cumulative_lead_time,
    promise,
)

TODAY = date(2026, 3, 2)
FG, SA, A, B, R, C = 1, 2, 3, 4, 5, 6


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def buy(lead: int, stock: str = "0", receipts: tuple[tuple[int, str], ...] = (), uom: str = "pcs",
        claims: tuple[tuple[int, str], ...] = ()) -> AtpInputs:
    return AtpInputs(D(stock), lead, [Receipt(day(d), D(q)) for d, q in receipts],
                     [Claim(day(d), D(q)) for d, q in claims], uom=uom)


def make(lead: int, *lines: tuple[int, str] | tuple[int, str, str], stock: str = "0",
         receipts: tuple[tuple[int, str], ...] = (), claims: tuple[tuple[int, str], ...] = (),
         output: str = "1", uom: str = "pcs") -> AtpInputs:
    return AtpInputs(
        D(stock), lead, [Receipt(day(d), D(q)) for d, q in receipts], [Claim(day(d), D(q)) for d, q in claims],
        procurement="MAKE", components=tuple(Component(line[0], *(D(v) for v in line[1:])) for line in lines),
        output_quantity=D(output), uom=uom,
    )


def ctp(items: dict[int, AtpInputs], quantity: str, item: int = FG) -> tuple[date, int | None]:
    result = promise(item, D(quantity), items, TODAY)
    return result.date, result.limited_by


def test_components_in_stock_make_the_item_in_its_own_lead_time() -> None:
    items = {FG: make(2, (A, "2"), (B, "1")), A: buy(10, "100"), B: buy(30, "50")}
    assert cumulative_lead_time(FG, items) == 32  # the old promise
    assert ctp(items, "2") == (day(2), FG)
    assert promise(FG, D("2"), items, TODAY) == Atp(D(0), day(2), FG)
    # stock of the item itself covers: today, nothing limits
    items[FG].available_now = D(3)
    assert promise(FG, D("3"), items, TODAY) == Atp(D(3), TODAY, None)
    # the part beyond stock is made
    assert ctp(items, "5") == (day(2), FG)


def test_a_short_component_waits_for_its_receipt_or_its_lead_time() -> None:
    items = {FG: make(2, (A, "2"), (B, "1")), A: buy(10, "100"), B: buy(30, receipts=((10, "10"),))}
    assert ctp(items, "2") == (day(12), B)
    assert ctp(items, "10") == (day(12), B)
    assert ctp(items, "11") == (day(32), B)  # the receipt falls short: B's lead time
    # a receipt later than B's own lead time is not waited for
    items[B] = buy(30, receipts=((60, "10"),))
    assert ctp(items, "2") == (day(32), B)
    # the slowest of two short components sets the date
    items[A] = buy(10, "1")
    items[B] = buy(30, receipts=((5, "10"),))
    assert ctp(items, "2") == (day(12), A)


def test_three_levels_with_scrap_and_stock_at_each_level() -> None:
    items = {
        FG: make(2, (SA, "1"), (A, "1"), stock="1"),
        SA: make(3, (R, "2", "0.5"), stock="1"),     # 3 R per good SA
        R: buy(7, "5", receipts=((4, "10"),)),
        A: buy(1, "10"),
    }
    # 4 FG: 1 in stock, make 3; 3 SA: 1 in stock, make 2; 2 SA need 6 R: 5 now + the receipt on day 4
    assert ctp(items, "4") == (day(4 + 3 + 2), R)
    # 3 FG: make 2; 1 SA in stock, make 1: 3 R from stock; SA's lead time sets the date
    assert ctp(items, "3") == (day(3 + 2), SA)
    # 2 FG: make 1 from the SA in stock and A: FG's own lead time
    assert ctp(items, "2") == (day(2), FG)
    # R has nothing: bought in 7 days, never later than the cumulative lead time 2 + 3 + 7
    items[R] = buy(7)
    assert ctp(items, "4") == (day(12), R)
    assert cumulative_lead_time(FG, items) == 12


def test_a_shared_component_is_not_counted_twice() -> None:
    # FG takes 2 C directly and 1 C through each SA
    items = {FG: make(2, (SA, "1"), (C, "2")), SA: make(3, (C, "1")), C: buy(5, "6")}
    assert ctp(items, "2") == (day(5), SA)  # 2 C for the SAs + 4 direct = 6: all in stock
    items[C] = buy(5, "5")
    assert ctp(items, "2") == (day(7), C)  # one short: C's lead time, then FG's


def test_backorders_of_made_items_claim_their_components() -> None:
    items = {FG: make(2, (A, "2"), claims=((2, "2"),)), A: buy(10, "4")}
    # the earlier backorder of 2 FG was promised by making: it claims the 4 A in stock
    assert ctp(items, "1") == (day(12), A)
    # without it, the 4 A make 2 FG
    items[FG].claims.clear()
    assert ctp(items, "2") == (day(2), FG)
    # a backorder that a work order covers claims the work order, not the components
    items[FG] = make(2, (A, "2"), receipts=((5, "2"),), claims=((5, "2"),))
    assert ctp(items, "1") == (day(2), FG)
    assert ctp(items, "3") == (day(12), A)


def test_open_work_orders_claim_what_they_still_have_to_issue() -> None:
    items = {FG: make(2, (A, "2"), receipts=((5, "2"),), claims=((5, "2"),)), A: buy(10, "4")}
    # the work order covering the backorder takes 4 A when it starts
    items[A].to_issue.append(Claim(day(3), D("4")))
    assert ctp(items, "1") == (day(12), A)
    items[A].to_issue[0] = Claim(day(3), D("2"))  # half issued already (stock is 2 lower then)
    assert ctp(items, "1") == (day(2), FG)


def test_component_claims_flow_down_through_sub_assemblies_and_other_parents() -> None:
    items = {
        FG: make(2, (SA, "1")),
        SA: make(3, (R, "1"), stock="1"),
        R: buy(7, "3"),
        # another made item using R, with a backorder promised by making
        B: make(1, (R, "1"), claims=((1, "1"),)),
    }
    assert ctp(items, "3") == (day(5), SA)  # 1 SA in stock, 2 made from 2 of R's 3... B claims 1
    items[FG].claims.append(Claim(day(5), D("3")))  # the first promise is now a claim
    assert ctp(items, "1") == (day(12), R)  # its SA and R are taken: R's lead time


def test_two_orders_for_the_same_components_get_different_dates() -> None:
    items = {FG: make(2, (A, "1"), (B, "1")), A: buy(10, "5"), B: buy(20, "5", receipts=((8, "5"),))}
    first = promise(FG, D("5"), items, TODAY)
    assert (first.date, first.limited_by) == (day(2), FG)
    items[FG].claims.append(Claim(first.date, D("5")))
    second = promise(FG, D("5"), items, TODAY)
    assert (second.date, second.limited_by) == (day(12), A)


def test_countable_units_are_made_and_consumed_whole() -> None:
    # 4 FG per batch of 1 P; half a FG is a whole FG, a quarter P a whole P
    items = {FG: make(1, (C, "1"), output="4"), C: buy(9, "1")}
    assert ctp(items, "0.5") == (day(1), FG)
    assert ctp(items, "4") == (day(1), FG)
    assert ctp(items, "4.5") == (day(10), C)  # 5 FG need 1.25 → 2 P
    # by weight, no rounding: 5 FG need 1.25 kg
    items = {FG: make(1, (C, "1"), output="4", uom="kg"), C: buy(9, "1.25", uom="kg")}
    assert ctp(items, "5") == (day(1), FG)
    assert ctp(items, "5.000004") == (day(10), C)


def test_sold_component_claims_and_cycles() -> None:
    # a backorder of the component itself takes its receipt first
    items = {FG: make(2, (B, "1")), B: buy(6, receipts=((3, "5"),), claims=((3, "4"),))}
    assert ctp(items, "1") == (day(5), B)
    assert ctp(items, "2") == (day(8), B)
    # a cyclic BOM (refused on write) neither loops nor counts the cycle
    items = {FG: make(2, (SA, "1")), SA: make(3, (FG, "1"), claims=((1, "1"),))}
    assert ctp(items, "1") == (day(5), SA)
    # an unknown component counts as in stock
    assert ctp({FG: make(2, (99, "1"))}, "1") == (day(2), FG)


# -- properties ------------------------------------------------------------------

N = 5  # items 0..4; an item's components come after it, so BOMs have no cycles


@st.composite
def worlds(draw: st.DrawFn, claims: bool = True) -> tuple[dict[int, AtpInputs], D]:
    items: dict[int, AtpInputs] = {}
    for i in range(N):
        later = list(range(i + 1, N))
        components = draw(st.lists(st.sampled_from(later), unique=True, max_size=3)) if later else []
        receipts = [] if i == 0 and not claims else draw(st.lists(
            st.builds(Receipt, st.integers(-2, 40).map(day), st.integers(1, 8).map(D)), max_size=2))
        items[i] = AtpInputs(
            available_now=D(draw(st.integers(0, 8))),
            lead_time_days=draw(st.integers(0, 10)),
            receipts=receipts,
            claims=draw(st.lists(st.builds(Claim, st.integers(0, 40).map(day), st.integers(1, 6).map(D)),
                                 max_size=2)) if claims else [],
            procurement="MAKE" if components else "BUY",
            components=tuple(Component(c, D(draw(st.integers(1, 3)))) for c in components),
        )
    return items, D(draw(st.integers(1, 20)))


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_never_later_than_the_cumulative_lead_time_bound(world: tuple[dict[int, AtpInputs], D]) -> None:
    items, quantity = world
    result = promise(0, quantity, items, TODAY)
    latest_receipt = max((max(r.due, TODAY) for r in items[0].receipts), default=TODAY)
    assert TODAY <= result.date <= max(day(cumulative_lead_time(0, items)), latest_receipt)
    assert (result.limited_by is None) == (quantity <= items[0].available_now)
    assert result.limited_by is None or result.limited_by in items


def _earliest(item: AtpInputs, need: D) -> int:
    """Days before ``need`` of a component can be had, at best (no one else takes any)."""
    if need <= item.available_now:
        return 0
    covered, by_receipt = item.available_now, None
    for receipt in sorted(item.receipts, key=lambda r: r.due):
        covered += receipt.quantity
        if covered >= need:
            by_receipt = max((receipt.due - TODAY).days, 0)
            break
    # bought or made, never faster than its own lead time
    return item.lead_time_days if by_receipt is None else min(by_receipt, item.lead_time_days)


@settings(max_examples=300, deadline=None)
@given(worlds(claims=False))
def test_never_earlier_than_the_components_allow(world: tuple[dict[int, AtpInputs], D]) -> None:
    items, quantity = world
    top = items[0]
    result = promise(0, quantity, items, TODAY)
    if quantity <= top.available_now:
        assert result.date == TODAY
        return
    made = quantity - top.available_now  # the top item has no receipts here
    wait = max((_earliest(items[c.component_id], made * c.quantity) for c in top.components), default=0)
    assert result.date >= day(top.lead_time_days + wait)


@settings(max_examples=200, deadline=None)
@given(worlds(), st.lists(st.integers(1, 12).map(D), min_size=1, max_size=4))
def test_claiming_one_by_one_is_promising_with_the_claims_loaded(
    world: tuple[dict[int, AtpInputs], D], quantities: list[D]
) -> None:
    """A confirmation's lines (and re-promised backorders) queue behind each other through
    ``Promiser.claim``: the same dates as loading those promises as claims."""
    items, _ = world
    promiser = Promiser(items, TODAY)
    loaded = {i: replace(item, claims=list(item.claims)) for i, item in items.items()}
    for quantity in quantities:
        result = promiser.promise(0, quantity)
        assert result == promise(0, quantity, loaded, TODAY)
        promiser.claim(0, result.date, quantity)
        loaded[0].claims.append(Claim(result.date, quantity))
