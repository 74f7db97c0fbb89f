"""Credit rules on plain numbers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from domain.finance.credit import CreditPosition, days_overdue, hold_reason, invoice_days_overdue
from domain.finance.models import InvoiceStatus


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


def test_days_overdue_counts_from_the_day_after_the_due_date() -> None:
    due = date(2024, 3, 1)
    assert [days_overdue(due, due + timedelta(days=n)) for n in (-5, 0, 1, 31)] == [0, 0, 1, 31]


def test_an_invoice_is_overdue_only_while_something_is_owed() -> None:
    due, today = date(2024, 3, 1), date(2024, 3, 11)
    assert invoice_days_overdue(InvoiceStatus.OPEN, due, D("1.00"), today) == 10
    assert invoice_days_overdue("PARTIALLY_PAID", due, D("0.01"), today) == 10
    assert invoice_days_overdue(InvoiceStatus.PAID, due, D("0.00"), today) == 0
    assert invoice_days_overdue(InvoiceStatus.VOID, due, D("5.00"), today) == 0
