"""Taking a quantity from stock held in several warehouses: the default warehouse first.

Confirmation reserves, a work order's issue consumes and a shipment ships this way:
what a line or component needs is taken from the default warehouse first, then from
the others by warehouse id, from each no more than it holds. Pure: callers lock the
balances (or read the line's reservations), call ``take`` and post what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Stock:
    """What may be taken in one warehouse: its available stock, or what it holds for a line."""

    warehouse_id: int
    quantity: Decimal
    is_default: bool = False


def draw_order(stock: Iterable[Stock]) -> list[Stock]:
    """The order stock is taken in: the default warehouse first, then by warehouse id."""
    return sorted(stock, key=lambda s: (not s.is_default, s.warehouse_id))


def takeable(stock: Iterable[Stock]) -> Decimal:
    """What can be taken in all (a warehouse holding less than nothing gives nothing)."""
    return sum((max(s.quantity, ZERO) for s in stock), ZERO)


def take(needed: Decimal, stock: Iterable[Stock]) -> list[tuple[int, Decimal]]:
    """(warehouse id, quantity > 0) to take for ``needed``, in ``draw_order``.

    No warehouse gives more than it holds and each appears once; in all they give
    min(needed, ``takeable(stock)``).
    """
    takes: list[tuple[int, Decimal]] = []
    left = needed
    for s in draw_order(stock):
        if left <= 0:
            break
        quantity = min(left, s.quantity)
        if quantity > 0:
            takes.append((s.warehouse_id, quantity))
            left -= quantity
    return takes
