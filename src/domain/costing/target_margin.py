"""Pricing for a target margin (``simulateQuote``): pure, over plain numbers.

A line's unit price is ``unit cost / (1 − m/100)`` rounded half-up to cents, so that
price − cost is m% of the price before rounding; the line total is quantity × unit
price rounded to cents (``domain.sales.pricing.price_line``, as quotes price). Totals:
revenue = Σ line totals; cost = Σ quantity × unit cost; margin, and the margin percent
*achieved* after the rounding, as an order's (``domain.costing.margins.margin``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from domain.costing.margins import Figures, margin
from domain.sales.pricing import price_line
from domain.shared.money import cents

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def price_for_margin(unit_cost: Decimal, margin_percent: Decimal) -> Decimal:
    """The unit price (cents) at which ``margin_percent`` (0 ≤ m < 100) of it is margin."""
    if not ZERO <= margin_percent < HUNDRED:
        raise ValueError("the target margin must be at least 0 and below 100")
    return cents(unit_cost * HUNDRED / (HUNDRED - margin_percent))


@dataclass(frozen=True, slots=True)
class PricedForMargin:
    item_id: int
    quantity: Decimal
    unit_cost: Decimal
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True, slots=True)
class Simulation:
    lines: tuple[PricedForMargin, ...]
    revenue: Decimal
    cost: Decimal
    margin: Decimal
    margin_percent: Decimal | None


def simulate(lines: Sequence[tuple[int, Decimal, Decimal]], margin_percent: Decimal) -> Simulation:
    """Price ``(item id, quantity, unit cost)`` lines for ``margin_percent``; see the module docstring."""
    priced = []
    for item_id, quantity, unit_cost in lines:
        unit_price = price_for_margin(unit_cost, margin_percent)
        priced.append(PricedForMargin(item_id, quantity, unit_cost, unit_price,
                                      price_line(quantity, unit_price).line_total))
    shown = margin(Figures(
        revenue=sum((line.line_total for line in priced), ZERO),
        cost=sum((line.quantity * line.unit_cost for line in priced), ZERO),
    ))
    return Simulation(tuple(priced), shown.revenue, shown.cost, shown.margin, shown.margin_percent)
