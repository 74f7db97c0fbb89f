"""How money is split: payments over open invoices, invoiced shares of order lines.

Pure functions over plain numbers (no database), unit-tested with hypothesis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.shared.money import cents

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    due_date: date
    balance: Decimal


@dataclass(frozen=True)
class Allocation:
    """Amounts per invoice id, in the order applied, and what is left over (0 or more)."""

    applied: list[tuple[int, Decimal]]
    surplus: Decimal


def allocate(amount: Decimal, invoices: Sequence[OpenInvoice]) -> Allocation:
    """Apply ``amount`` to the oldest invoices first (by due date, then id).

    Each invoice gets at most its balance; what no invoice can take is the surplus.
    """
    left = amount
    applied: list[tuple[int, Decimal]] = []
    for invoice in sorted(invoices, key=lambda i: (i.due_date, i.id)):
        if left <= 0:
            break
        if invoice.balance <= 0:
            continue
        share = min(left, invoice.balance)
        applied.append((invoice.id, share))
        left -= share
    return Allocation(applied=applied, surplus=left)



def invoiced_share(amount: Decimal, quantity: Decimal, invoiced: Decimal, now: Decimal) -> Decimal:
    """The part of a line's ``amount`` for ``now`` more units after ``invoiced`` units.

    Computed as the difference of rounded cumulative shares, so the invoices of a
    line always add up to its amount exactly: the last one takes the remainder.
    """
    before = cents(amount * invoiced / quantity)
    after = amount if invoiced + now >= quantity else cents(amount * (invoiced + now) / quantity)
    return after - before
