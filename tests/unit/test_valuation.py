"""Moving-average valuation (domain.inventory.valuation), by hand and by property."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.inventory.valuation import Valuation, incoming_cost, issue, receive, revalue

D = Decimal


def test_receipt_issue_receipt_by_hand() -> None:
    """10 in at 5.00: Q 10, V 50.00, c 5.
    4 out at 5: value -20.00; Q 6, V 30.00, c 5 (an issue never moves the average).
    6 in at 8.00: c' = (30 + 48) / (6 + 6) = 78 / 12 = 6.5; Q 12, V 78.00.
    12 out: the last unit takes what is left, -78.00; Q 0, V 0, c stays 6.5.
    5 in at 7.00 onto Q = 0: c' = u = 7 (nothing to blend with)."""
    state, move = receive(Valuation(), D(10), D("5.00"))
    assert (state, move.value) == (Valuation(D(10), D("50.00"), D("5.00")), D("50.00"))
    state, move = issue(state, D(4))
    assert (move.unit_cost, move.value) == (D(5), D("-20.00"))
    assert (state.quantity, state.value, state.average) == (D(6), D("30.00"), D(5))
    state, move = receive(state, D(6), D("8.00"))
    assert (state.quantity, state.value, state.average) == (D(12), D("78.00"), D("6.5"))
    state, move = issue(state, D(12))
    assert (move.value, state.quantity, state.value, state.average) == (D("-78.00"), 0, 0, D("6.5"))
    state, _ = receive(state, D(5), D("7.00"))
    assert state.average == D("7.00")


def test_no_cent_drifts_and_the_last_unit_takes_the_residue() -> None:
    """3 in at 10.00 and 1 in at 10.01: V = 40.01, c = 40.01 / 4 = 10.0025 (kept, not 10.00).
    Four issues of 1 at 10.0025 = 40.01: nothing is left at quantity 0. Rounding the
    average to cents (10.00) would have issued 40.00 and left 0.01 on no stock."""
    state, _ = receive(Valuation(), D(3), D("10.00"))
    state, _ = receive(state, D(1), D("10.01"))
    assert state.average == D("10.0025")
    values = []
    for _ in range(4):
        state, move = issue(state, D(1))
        values.append(move.value)
    assert values == [D("-10.0025")] * 4
    assert (state.quantity, state.value) == (0, 0)


def test_a_thousand_cycles_keep_value_and_average_together() -> None:
    """Receive 3 at 0.3333, issue 1, a thousand times: Q = 2000 and V = Σ values; the
    average stays 0.3333 to the tenth decimal, where cents rounding would make it 0.33."""
    state = Valuation()
    total = D(0)
    for _ in range(1000):
        state, move = receive(state, D(3), D("0.3333"))
        total += move.value
        state, move = issue(state, D(1))
        total += move.value
    assert state.quantity == 2000
    assert state.value == total
    assert state.average == D("0.3333")
    assert state.value == D("666.6000")


def test_a_receipt_onto_negative_stock_takes_its_own_cost() -> None:
    """Q = -5 worth -50.00 (c 10); 8 in at 12.00. Blending would give
    (-50 + 96) / 3 = 15.33; the rule gives c' = u = 12 whenever Q <= 0."""
    state, _ = receive(Valuation(D(-5), D("-50.00"), D(10)), D(8), D("12.00"))
    assert state.average == D("12.00")
    assert state.quantity == 3


def test_zero_cost_is_a_cost_and_no_cost_is_the_average() -> None:
    """10 at 6.00 then 10 at 0.00: c = 60 / 20 = 3 (a free receipt dilutes the average).
    A receipt without a cost comes in at the current average (3), so it moves nothing;
    with no average yet, at the standard cost; with neither, at zero."""
    state, _ = receive(Valuation(), D(10), D("6.00"))
    state, _ = receive(state, D(10), D("0.00"))
    assert state.average == D(3)
    state, move = receive(state, D(5), incoming_cost(None, state, D("9.00")))
    assert (move.unit_cost, state.average) == (D(3), D(3))
    assert incoming_cost(None, Valuation(), D("9.00")) == D("9.00")
    assert incoming_cost(None, Valuation(), None) == 0
    assert incoming_cost(D(0), state, D("9.00")) == 0


def test_revaluation_moves_value_and_average_not_quantity() -> None:
    """4 on hand at 5.00 (V 20.00), revalued by +6.00: V 26.00, c = 26 / 4 = 6.5."""
    state, _ = receive(Valuation(), D(4), D("5.00"))
    assert revalue(state, D("6.00")) == Valuation(D(4), D("26.00"), D("6.5"))


steps = st.lists(
    st.tuples(
        st.booleans(),
        st.decimals(min_value=D("0.000001"), max_value=D(1000), places=6),
        st.decimals(min_value=D(0), max_value=D(500), places=4),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_stock_value_is_always_the_sum_of_ledger_values(moves: list[tuple[bool, Decimal, Decimal]]) -> None:
    state = Valuation()
    ledger = D(0)
    for incoming, quantity, cost in moves:
        if incoming:
            state, move = receive(state, quantity, cost)
        else:
            quantity = min(quantity, state.quantity)  # stock never goes negative here
            if quantity <= 0:
                continue
            state, move = issue(state, quantity)
        ledger += move.value
        assert state.value == ledger
        assert state.quantity >= 0
        assert state.average is None or state.average >= 0
        if state.quantity == 0:
            assert state.value == 0
        else:  # the average is the value per unit, to the stored precision
            assert abs(state.value - state.quantity * (state.average or 0)) <= state.quantity * D("1e-9") + D(
                "1e-6"
            )
