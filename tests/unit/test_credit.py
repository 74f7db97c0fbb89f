"""Credit rules on plain numbers."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from domain.finance.credit import CreditPosition, hold_reason


def position(limit: str = "1000", receivables: str = "0", orders: str = "0", days: int = 0) -> CreditPosition:
    return CreditPosition(D(limit), D(receivables), D(orders), D("0") if not days else D(receivables), days)


def test_exposure_and_available() -> None:
    p = position(limit="1000", receivables="300", orders="200")
    assert p.exposure == D("500") and p.available == D("500")
    assert position(limit="0").available is None


def test_limit_is_inclusive() -> None:
    assert hold_reason(position(receivables="300", orders="200"), D("500"), 30) is None
    reason = hold_reason(position(receivables="300", orders="200"), D("500.01"), 30)
    assert reason is not None and "1000" in reason and "1000.01" in reason


def test_zero_limit_means_no_limit_but_overdue_still_holds() -> None:
    assert hold_reason(position(limit="0", receivables="1e9"), D("1e9"), 30) is None
    assert hold_reason(position(limit="0", receivables="10", days=31), D("1"), 30) is not None
    assert hold_reason(position(limit="0", receivables="10", days=30), D("1"), 30) is None


@given(st.decimals(0, 10**6, places=2), st.decimals(0, 10**6, places=2), st.decimals(0, 10**6, places=2),
       st.decimals(0, 10**6, places=2))
def test_hold_exactly_when_exposure_exceeds_a_limit(limit: D, receivables: D, orders: D, total: D) -> None:
    p = CreditPosition(limit, receivables, orders, D(0), 0)
    held = hold_reason(p, total, 30) is not None
    assert held == (limit > 0 and receivables + orders + total > limit)
