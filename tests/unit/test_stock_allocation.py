"""Taking stock warehouse by warehouse, default first: pure arithmetic, no database."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.inventory.allocation import Stock, draw_order, take, takeable

D = Decimal
quantities = st.decimals(min_value=D("-5"), max_value=D("50"), places=6)


@st.composite
def warehouses(draw: st.DrawFn) -> list[Stock]:
    """Stock in distinct warehouses, in any order, with at most one default."""
    ids = draw(st.lists(st.integers(1, 40), unique=True, max_size=6))
    default = draw(st.sampled_from([None, *ids])) if ids else None
    stock = [Stock(i, draw(quantities), i == default) for i in ids]
    return draw(st.permutations(stock))


def test_default_warehouse_first_then_by_id() -> None:
    stock = [Stock(3, D(5)), Stock(7, D(5), is_default=True), Stock(1, D(5))]
    assert take(D(12), stock) == [(7, D(5)), (1, D(5)), (3, D(2))]


def test_takes_only_what_is_needed_and_skips_empty_warehouses() -> None:
    stock = [Stock(1, D(0), is_default=True), Stock(2, D(-1)), Stock(3, D(4))]
    assert take(D(3), stock) == [(3, D(3))]
    assert take(D(0), stock) == []
    assert take(D(9), stock) == [(3, D(4))]
    assert takeable(stock) == D(4)


@given(warehouses(), st.decimals(min_value=D(0), max_value=D(200), places=6))
def test_never_more_than_a_warehouse_holds(stock: list[Stock], needed: Decimal) -> None:
    held = {s.warehouse_id: s.quantity for s in stock}
    takes = take(needed, stock)
    assert len({w for w, _ in takes}) == len(takes)
    assert all(0 < q <= held[w] for w, q in takes)


@given(warehouses(), st.decimals(min_value=D(0), max_value=D(200), places=6))
def test_takes_min_of_needed_and_available(stock: list[Stock], needed: Decimal) -> None:
    assert sum((q for _, q in take(needed, stock)), D(0)) == min(needed, takeable(stock))


@given(warehouses(), st.decimals(min_value=D(0), max_value=D(200), places=6))
def test_default_first_each_warehouse_emptied_before_the_next(stock: list[Stock], needed: Decimal) -> None:
    takes = dict(take(needed, stock))
    order = draw_order(stock)
    assert [s.is_default for s in order] == sorted((s.is_default for s in order), reverse=True)
    assert [s.warehouse_id for s in order if not s.is_default] == sorted(
        s.warehouse_id for s in stock if not s.is_default
    )
    used = [i for i, s in enumerate(order) if s.warehouse_id in takes]
    if used:
        # every warehouse before the last one used gave all it had
        for s in order[: used[-1]]:
            assert takes.get(s.warehouse_id, D(0)) == max(s.quantity, D(0))
    assert [w for w, _ in take(needed, stock)] == [s.warehouse_id for s in order if s.warehouse_id in takes]
