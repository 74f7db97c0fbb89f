from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.relay import decode_id
from domain.production.services import NewWorkOrder, ProductionReport


@strawberry.input
class WorkOrderInput:
    item_id: strawberry.ID
    quantity: Decimal
    due_date: date
    sales_order_id: strawberry.ID | None = None

    def to_domain(self) -> NewWorkOrder:
        return NewWorkOrder(
            item_id=decode_id(self.item_id, "Item", "itemId"),
            quantity=self.quantity,
            due_date=self.due_date,
            sales_order_id=(
                None if self.sales_order_id is None
                else decode_id(self.sales_order_id, "SalesOrder", "salesOrderId")
            ),
        )


@strawberry.input
class ProductionReportInput:
    work_order_id: strawberry.ID
    quantity: Decimal = strawberry.field(description="Good units completed in this report.")
    labor_hours: Decimal | None = None
    backflush: bool | None = strawberry.field(
        default=None,
        description="Issue components for these units by BOM ratio at completion (backflush).",
    )

    def to_domain(self) -> ProductionReport:
        return ProductionReport(
            work_order_id=decode_id(self.work_order_id, "WorkOrder", "workOrderId"),
            quantity=self.quantity,
            labor_hours=self.labor_hours,
            backflush=bool(self.backflush),
        )
