from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import Row

from api.enums import expose
from domain.costing.models import AllocationBasis

__all__ = ["AllocationBasis", "WorkOrderCost"]

# The domain's enum, served as the schema's (the domain stays strawberry-free).
expose(AllocationBasis, name="AllocationBasis", descriptions={
    "OUTPUT_QUANTITY": "In proportion to each work order's completed quantity.",
    "LABOR_HOURS": "In proportion to the labour hours reported on each work order.",
})


@strawberry.type(description=(
    "The actual cost of a completed work order, from the latest costing run of the period it "
    "completed in. Amounts are exact (up to 10 decimals); the overhead share is in cents."
))
class WorkOrderCost:
    material_cost: Decimal = strawberry.field(
        description="Ledger value of the components issued to the work order."
    )
    overhead_cost: Decimal = strawberry.field(
        description="Its share of the period's overhead pool (the shares add up to the pool to the cent)."
    )
    total_cost: Decimal = strawberry.field(description="materialCost + overheadCost.")
    unit_cost: Decimal = strawberry.field(description="totalCost / completed quantity.")
    computed_at: datetime
    variance: Decimal = strawberry.field(description=(
        "Cost difference charged to no stock: the part of (actual − provisional value of the units "
        "received) that falls on units already issued or shipped. Adds up over re-runs."
    ))
    revalued_amount: Decimal = strawberry.field(description=(
        "The part of that difference posted to the item's stock still on hand (REVALUATION moves "
        "referencing the work order). Adds up over re-runs."
    ))
    allocation_basis: AllocationBasis = strawberry.field(description="How the run allocated its overhead.")
    period_start: date = strawberry.field(description="The costing run's period (by completion day).")
    period_end: date

    @classmethod
    def from_row(cls, row: Row[Any]) -> WorkOrderCost:
        return cls(
            material_cost=row.material_cost, overhead_cost=row.overhead_cost, total_cost=row.total_cost,
            unit_cost=row.unit_cost, computed_at=row.computed_at, variance=row.variance,
            revalued_amount=row.revalued_amount, allocation_basis=AllocationBasis(row.allocation_basis),
            period_start=row.period_start, period_end=row.period_end,
        )
