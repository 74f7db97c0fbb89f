"""What orders and customers earned (``domain.costing.margins``), for viewers who may see costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from domain.costing import margins

PERCENT = "Margin as a percentage of revenue (0-100 when profitable, negative for a loss); null without revenue."


@strawberry.type(description=(
    "Revenue: invoiced before tax, net of credit notes, plus shipped-but-not-invoiced quantities at the "
    "line's net price. Cost: what the shipped units left stock at (moving average at shipment). In cents."
))
class Margin:
    revenue: Decimal
    cost: Decimal
    margin: Decimal
    margin_percent: Decimal | None = strawberry.field(
        description=PERCENT
    )

    @classmethod
    def of(cls, figures: margins.Figures) -> Margin:
        shown = margins.margin(figures)
        return cls(revenue=shown.revenue, cost=shown.cost, margin=shown.margin, margin_percent=shown.margin_percent)


@strawberry.type(description="The margin of a customer's orders placed in a period (each order as SalesOrder.margin).")
class CustomerProfitability(Margin):
    start: date | None = strawberry.field(name="from")
    end: date | None = strawberry.field(name="to")
    orders: int = strawberry.field(description="Orders placed in the period.")

    @classmethod
    def of_orders(cls, start: date | None, end: date | None, figures: list[margins.Figures]) -> CustomerProfitability:
        shown = margins.margin(margins.total(figures))
        return cls(start=start, end=end, orders=len(figures), revenue=shown.revenue, cost=shown.cost,
                   margin=shown.margin, margin_percent=shown.margin_percent)
