from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.costing.types import AllocationBasis
from api.relay import decode_id
from domain.costing.runs import CostingRequest
from domain.costing.simulation import QuoteSimulationRequest, SimulatedLine


@strawberry.input
class CostingRunInput:
    overhead_amount: Decimal = strawberry.field(
        description="Overhead pool to allocate over the work orders completed in the period."
    )
    period_start: date
    period_end: date
    allocation_basis: AllocationBasis

    def to_domain(self) -> CostingRequest:
        return CostingRequest(self.overhead_amount, self.period_start, self.period_end, self.allocation_basis)


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
