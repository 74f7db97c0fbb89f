"""The BOM cost roll-up (domain.costing.rollup) and the unit cost now (domain.inventory.valuation.unit_cost_now)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.costing.rollup import CostItem, breakdown, line_factor, roll_up
from domain.inventory.valuation import exact, unit_cost_now

D = Decimal


def item(pk: int, cost: str = "0", *, procurement: str = "BUY", scrap: str = "0", output: str = "1",
         lines: tuple[tuple[int, str, str], ...] | None = None) -> CostItem:
    """An item; ``lines`` (component, quantity, line scrap) gives it a BOM."""
    return CostItem(
        id=pk, unit_cost_now=D(cost), procurement=procurement, has_bom=lines is not None,
        scrap_rate=D(scrap), output_quantity=D(output),
        components=tuple(c for c, _, _ in lines or ()),
        factors=tuple(line_factor(D(q), D(s)) for _, q, s in lines or ()),
    )


R1, R2, R3, S, T = 1, 2, 3, 4, 5


def three_levels() -> dict[int, CostItem]:
    """T (MAKE, scrap 5%) = 2 S (line scrap 2%) + 0.5 R1 + 4 R3;
    S (MAKE, scrap 20%, BOM output 2) = 3 R1 (line scrap 10%) + 1 R2;
    R1 bought, average 2.00; R2 bought, no stock history, standard cost 5.00; R3 bought, neither: 0."""
    return {
        R1: item(R1, unit_cost_now(D("2.00"), D("9.99"))),
        R2: item(R2, unit_cost_now(None, D("5.00"))),
        R3: item(R3, unit_cost_now(None, None)),
        S: item(S, procurement="MAKE", scrap="0.2", output="2", lines=((R1, "3", "0.1"), (R2, "1", "0"))),
        T: item(T, procurement="MAKE", scrap="0.05", lines=((S, "2", "0.02"), (R1, "0.5", "0"), (R3, "4", "0"))),
    }


def test_unit_cost_now_is_the_average_else_the_standard_cost_else_zero() -> None:
    assert unit_cost_now(D("2.5"), D("9")) == D("2.5")
    assert unit_cost_now(D("0"), D("9")) == D("0")  # a real zero average is a cost
    assert unit_cost_now(None, D("9")) == D("9")
    assert unit_cost_now(None, None) == D("0")


def test_three_levels_with_scrap_at_both_levels() -> None:
    """S = (3 × 1.1 × 2.00 + 1 × 5.00) / 2 / (1 − 0.2) = (6.6 + 5) / 1.6 = 11.6 / 1.6 = 7.25
    T = (2 × 1.02 × 7.25 + 0.5 × 2.00 + 4 × 0) / 1 / (1 − 0.05) = (14.79 + 1) / 0.95 = 15.79 / 0.95
      = 16.621052631578947368… -> 16.6210526316 at 10 places.
    Ignoring scrap (Odoo) would give S = 5.8 and T = 12.6."""
    result = roll_up(three_levels())
    assert result.unit_costs[S] == D("7.25")
    assert exact(result.unit_costs[T]) == D("16.6210526316")
    assert result.unit_costs[T] * D("0.95") == D("15.79")  # carried unrounded, not cut at 10 places
    assert set(result.unit_costs) == {S, T}  # bought items without a BOM have no roll-up
    assert result.cost[R1] == D("2.00") and result.cost[R3] == 0 and result.cost[S] == D("7.25")
    assert result.cycles == []


def test_breakdown_lines_add_up_to_the_unit_cost() -> None:
    """Lines of T per ONE good unit, both scraps applied:
    S:  2 × 1.02 / 0.95 = 2.1473684211, × 7.25 = 14.79 / 0.95 = 15.568421052631… -> 15.5684210526
    R1: 0.5 / 0.95 = 0.5263157895, × 2.00 = 1 / 0.95 = 1.052631578947… -> 1.0526315789
    R3: 4 / 0.95 = 4.2105263158, × 0 = 0
    Σ = 16.6210526315, one 10th-place unit short of 16.6210526316: the residue goes to the
    largest line, S -> 15.5684210527."""
    items = three_levels()
    found = breakdown(T, items, roll_up(items))
    assert found is not None
    assert found.unit_cost == D("16.6210526316")
    assert [(line.component_id, line.quantity, line.unit_cost, line.extended_cost) for line in found.lines] == [
        (S, D("2.1473684211"), D("7.2500000000"), D("15.5684210527")),
        (R1, D("0.5263157895"), D("2.0000000000"), D("1.0526315789")),
        (R3, D("4.2105263158"), D("0E-10"), D("0E-10")),
    ]
    assert sum(line.extended_cost for line in found.lines) == found.unit_cost
    assert breakdown(R1, items, roll_up(items)) is None  # no BOM


def test_a_bought_component_with_a_bom_counts_at_its_cost_now() -> None:
    """B is bought (average 3.00) but has a BOM of 10 R1 at 2.00: its BOM would cost 20.00.
    P (MAKE) = 1 B = 3.00: a parent takes a bought component's cost, not its BOM's."""
    items = {
        R1: item(R1, "2.00"),
        10: item(10, "3.00", procurement="BUY", lines=((R1, "10", "0"),)),
        11: item(11, procurement="MAKE", lines=((10, "1", "0"),)),
    }
    result = roll_up(items)
    assert result.unit_costs[11] == D("3.00")
    assert result.unit_costs[10] == D("20.00")
    assert result.cost[10] == D("3.00")


def test_subcontracted_items_are_made() -> None:
    """SUBCONTRACT with a BOM rolls up like MAKE: P = 2 × C, C (SUBCONTRACT) = 4 × R1 at 2.00 = 8."""
    items = {
        R1: item(R1, "2.00"),
        20: item(20, "99", procurement="SUBCONTRACT", lines=((R1, "4", "0"),)),
        21: item(21, procurement="MAKE", lines=((20, "2", "0"),)),
    }
    assert roll_up(items).unit_costs[21] == D("16.00")


def test_items_on_a_cycle_get_no_rollup_and_parents_take_their_cost_now() -> None:
    """A = B, B = A (written around setBom's check); P = A + R1. A and B have no roll-up;
    P = 7 (A's cost now) + 2 = 9."""
    items = {
        R1: item(R1, "2"),
        30: item(30, "7", procurement="MAKE", lines=((31, "1", "0"),)),
        31: item(31, "1", procurement="MAKE", lines=((30, "1", "0"),)),
        32: item(32, procurement="MAKE", lines=((30, "1", "0"), (R1, "1", "0"))),
    }
    result = roll_up(items)
    assert result.cycles == [[30, 31]]
    assert set(result.unit_costs) == {32}
    assert result.unit_costs[32] == D("9")


def _fraction_rollup(items: Mapping[int, CostItem]) -> dict[int, Fraction]:
    """The rule with exact fractions, by memoised recursion from each item (no low-level codes)."""
    memo: dict[int, Fraction] = {}

    def cost(pk: int) -> Fraction:
        it = items[pk]
        if not it.made:
            return Fraction(it.unit_cost_now)
        if pk not in memo:
            total = sum((Fraction(f) * cost(c) for c, f in zip(it.components, it.factors, strict=True)), Fraction(0))
            memo[pk] = total / (Fraction(it.output_quantity) * (1 - Fraction(it.scrap_rate)))
        return memo[pk]

    for pk in items:
        cost(pk)
    return memo


amounts = st.decimals(min_value=0, max_value=1000, places=4)
rates = st.sampled_from([D(0), D("0.01"), D("0.02"), D("0.05"), D("0.333333")])


@st.composite
def catalogues(draw: st.DrawFn) -> dict[int, CostItem]:
    """Random DAGs: item k may use only items > k (so no cycles), made or bought."""
    n = draw(st.integers(min_value=1, max_value=25))
    found: dict[int, CostItem] = {}
    for pk in range(n, 0, -1):
        below = list(range(pk + 1, n + 1))
        components = draw(st.lists(st.sampled_from(below), unique=True, max_size=5)) if below else []
        lines = tuple((c, str(draw(st.decimals(min_value=D("0.001"), max_value=50, places=3))), str(draw(rates)))
                      for c in components)
        found[pk] = item(
            pk, str(draw(amounts)), procurement=draw(st.sampled_from(["MAKE", "BUY", "SUBCONTRACT"])),
            scrap=str(draw(rates)), output=str(draw(st.sampled_from([D(1), D(2), D("0.5"), D(3)]))),
            lines=lines if lines else None,
        )
    return found


@settings(max_examples=200, deadline=None)
@given(catalogues())
def test_the_one_pass_equals_exact_recursion(items: dict[int, CostItem]) -> None:
    """Bottom-up by low-level code at 50 digits gives, at 10 places, what exact fractions give."""
    result = roll_up(items)
    expected = _fraction_rollup(items)
    made = {pk for pk, it in items.items() if it.made}
    assert set(result.unit_costs) >= made
    for pk in made:
        assert abs(Fraction(result.unit_costs[pk]) - expected[pk]) < Fraction(1, 10**20)
        found = breakdown(pk, items, result)
        assert found is not None and sum((line.extended_cost for line in found.lines), D(0)) == found.unit_cost
