from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.costing.types import AllocationBasis
from domain.costing.runs import CostingRequest


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
