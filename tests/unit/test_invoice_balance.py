"""An invoice's balance and the status its amounts give it (one definition each)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from domain.finance.models import InvoiceStatus, invoice_balance, invoice_status


@dataclass(frozen=True)
class Amounts:
    total: Decimal
    paid_amount: Decimal
    credited_amount: Decimal


@pytest.mark.parametrize(
    ("total", "paid", "credited", "balance", "status"),
    [
        ("100", "0", "0", "100", InvoiceStatus.OPEN),
        ("100", "0", "30", "70", InvoiceStatus.OPEN),
        ("100", "20", "30", "50", InvoiceStatus.PARTIALLY_PAID),
        ("100", "100", "0", "0", InvoiceStatus.PAID),
        ("100", "60", "40", "0", InvoiceStatus.PAID),  # partly paid, the rest credited
        ("100", "0", "100", "0", InvoiceStatus.VOID),  # credited in full
        ("0", "0", "0", "0", InvoiceStatus.PAID),  # an invoice of nothing owes nothing
    ],
)
def test_balance_and_status(total: str, paid: str, credited: str, balance: str, status: InvoiceStatus) -> None:
    amounts = Amounts(Decimal(total), Decimal(paid), Decimal(credited))
    assert invoice_balance(amounts) == Decimal(balance)
    assert invoice_status(amounts) == status
