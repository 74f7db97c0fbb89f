from __future__ import annotations

from decimal import Decimal

import strawberry

from api.relay import decode_id
from domain.costing.simulation import QuoteSimulationRequest, SimulatedLine


@strawberry.input
class SimulateQuoteLineInput:
    item_id: strawberry.ID
    quantity: Decimal


@strawberry.input
class SimulateQuoteInput:
    customer_id: strawberry.ID
    lines: list[SimulateQuoteLineInput]
    target_margin_percent: Decimal = strawberry.field(
        description="Margin wanted as a share of the price, 0 ≤ m < 100 (25: price = cost / 0.75)."
    )

    def to_domain(self) -> QuoteSimulationRequest:
        return QuoteSimulationRequest(
            customer_id=decode_id(self.customer_id, "Customer", "customerId"),
            lines=[
                SimulatedLine(decode_id(line.item_id, "Item", "lines", str(i), "itemId"), line.quantity)
                for i, line in enumerate(self.lines)
            ],
            target_margin_percent=self.target_margin_percent,
        )
