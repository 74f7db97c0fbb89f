"""Credit exposure: pure rules over plain numbers (no database).

exposure = open receivables + open orders (+ the order being confirmed);
a limit of 0 means "no limit", as in Odoo and ERPNext; an invoice more than
``max_days_overdue`` days past due holds new orders whatever the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.finance.models import InvoiceStatus

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CreditPosition:
    limit: Decimal
    open_receivables: Decimal
    open_orders: Decimal
    overdue_amount: Decimal
    max_days_overdue: int

    @property
    def exposure(self) -> Decimal:
        return self.open_receivables + self.open_orders

    @property
    def available(self) -> Decimal | None:
        return None if self.limit == 0 else self.limit - self.exposure


def days_overdue(due_date: date, today: date) -> int:
    """How many days past ``due_date`` an unpaid amount is on ``today``; 0 until then."""
    return max(0, (today - due_date).days)


def invoice_days_overdue(status: str, due_date: date, balance: Decimal, today: date) -> int:
    """An invoice's days overdue: ``days_overdue`` while something is owed, 0 once
    it is paid or voided."""
    if status == InvoiceStatus.VOID or balance <= 0:
        return 0
    return days_overdue(due_date, today)


def hold_reason(position: CreditPosition, order_total: Decimal, max_days_overdue: int) -> str | None:
    """Why an order of ``order_total`` must wait for finance, or None when it may pass."""
    if position.max_days_overdue > max_days_overdue:
        return (
            f"invoice {position.max_days_overdue} days overdue "
            f"(more than {max_days_overdue}); overdue amount {position.overdue_amount}"
        )
    if position.limit > 0:
        exposure = position.exposure + order_total
        if exposure > position.limit:
            return f"credit limit {position.limit} exceeded: exposure would be {exposure}"
    return None
