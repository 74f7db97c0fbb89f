"""Overhead allocation (domain.costing.allocation): hand-computed cases and properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.costing.allocation import allocate, exact_shares

D = Decimal


def test_two_orders_by_quantity_with_a_residue_cent() -> None:
    """Pool 100.00 over 2 and 1 units: 66.666… and 33.333… round to 66.67 + 33.33 = 100.00,
    no residue; over 1 and 2 (order of keys swapped) the same, mirrored."""
    assert allocate(D("100.00"), {1: D(2), 2: D(1)}) == {1: D("66.67"), 2: D("33.33")}
    assert allocate(D("100.00"), {1: D(1), 2: D(2)}) == {1: D("33.33"), 2: D("66.67")}


def test_three_equal_weights_leave_a_cent_for_the_lowest_key() -> None:
    """100.00 / 3 = 33.333… each, rounded 33.33 × 3 = 99.99: the residue 0.01 goes to the
    largest share; all three are equal, so to the lowest key."""
    assert allocate(D("100.00"), {7: D(1), 3: D(1), 5: D(1)}) == {3: D("33.34"), 5: D("33.33"), 7: D("33.33")}


def test_the_residue_goes_to_the_largest_share() -> None:
    """Pool 10.00 by hours 1.5 and 4.5 and 3 (total 9): exact 1.666…, 5.000, 3.333…;
    rounded 1.67 + 5.00 + 3.33 = 10.00 (no residue). Pool 10.01: exact 1.66833…, 5.005,
    3.33666…; rounded (half to even) 1.67 + 5.00 + 3.34 = 10.01 (none). Pool 0.05 by 1, 1, 2:
    0.0125, 0.0125, 0.025 round to 0.01 + 0.01 + 0.02 = 0.04; the residue 0.01 goes to the
    largest (key 3): 0.03."""
    assert allocate(D("10.00"), {1: D("1.5"), 2: D("4.5"), 3: D(3)}) == {1: D("1.67"), 2: D("5.00"), 3: D("3.33")}
    assert allocate(D("10.01"), {1: D("1.5"), 2: D("4.5"), 3: D(3)}) == {1: D("1.67"), 2: D("5.00"), 3: D("3.34")}
    assert allocate(D("0.05"), {1: D(1), 2: D(1), 3: D(2)}) == {1: D("0.01"), 2: D("0.01"), 3: D("0.03")}


def test_a_residue_of_several_cents_is_spread_not_dumped() -> None:
    """0.03 over five equal weights: 0.006 each rounds to 0.01, Σ 0.05, residue -0.02. Taking
    both cents from one share would leave it at -0.01; one cent each from the first two keys
    leaves 0.00, 0.00, 0.01, 0.01, 0.01."""
    assert allocate(D("0.03"), {k: D(1) for k in range(1, 6)}) == {
        1: D("0.00"), 2: D("0.00"), 3: D("0.01"), 4: D("0.01"), 5: D("0.01")
    }


def test_zero_weights_get_nothing_and_a_zero_pool_gives_zeros() -> None:
    assert allocate(D("12.34"), {1: D(0), 2: D(5)}) == {1: D("0.00"), 2: D("12.34")}
    assert allocate(D("0"), {1: D(1), 2: D(1)}) == {1: D("0.00"), 2: D("0.00")}


@pytest.mark.parametrize(("pool", "weights"), [
    (D("1.00"), {1: D(0)}), (D("-1.00"), {1: D(1)}), (D("1.001"), {1: D(1)}), (D("1"), {1: D(-1), 2: D(2)}),
])
def test_refused(pool: Decimal, weights: dict[int, Decimal]) -> None:
    with pytest.raises(ValueError):
        allocate(pool, weights)


weights_st = st.dictionaries(
    st.integers(min_value=1, max_value=10_000),
    st.decimals(min_value=0, max_value=100_000, places=6, allow_nan=False, allow_infinity=False),
    min_size=1, max_size=30,
).filter(lambda w: sum(w.values()) > 0)
pool_st = st.integers(min_value=0, max_value=10**12).map(lambda cents: Decimal(cents).scaleb(-2))


@given(pool_st, weights_st)
def test_shares_add_up_to_the_pool_follow_the_weights_and_are_never_negative(
    pool: Decimal, weights: dict[int, Decimal]
) -> None:
    shares = allocate(pool, weights)
    exact = exact_shares(pool, weights)
    assert shares.keys() == weights.keys()
    assert sum(shares.values()) == pool
    for key, share in shares.items():
        assert share >= 0
        assert share == share.quantize(D("0.01"))
        assert abs(Fraction(share) - exact[key]) < Fraction(1, 100)
        if weights[key] == 0:
            assert share == 0
