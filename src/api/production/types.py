from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.context import Info
from api.costing.types import WorkOrderCost
from api.dataloaders import RowOf, present
from api.enums import expose
from api.errors import UserError
from api.inventory.types import Item
from api.permissions import visible_with
from api.relay import Node
from api.sales.types import SalesOrder
from domain.identity.scopes import Scope
from domain.production import models
from domain.production.kitting import Kit

# The domain's enum, served as the schema's (the domain stays strawberry-free).
WorkOrderStatus = models.WorkOrderStatus
expose(WorkOrderStatus, name="WorkOrderStatus")


@strawberry.type
class WorkOrderComponent:
    item_pk: strawberry.Private[int]
    required_quantity: Decimal
    issued_quantity: Decimal

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.item_pk)))

    @classmethod
    def from_row(cls, row: RowOf[models.WorkOrderComponent]) -> WorkOrderComponent:
        return cls(
            item_pk=row.item_id, required_quantity=row.required_quantity,
            issued_quantity=row.issued_quantity,
        )


@strawberry.type
class WorkOrder(Node):
    row: strawberry.Private[RowOf[models.WorkOrder]]
    number: str
    quantity: Decimal
    completed_quantity: Decimal
    status: WorkOrderStatus
    start_date: date | None
    due_date: date

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.row.item_id)))

    @strawberry.field
    async def sales_order(self, info: Info) -> SalesOrder | None:
        if self.row.sales_order_id is None:
            return None
        row = await info.context.loaders.sales.order.load(self.row.sales_order_id)
        return None if row is None else SalesOrder.from_row(row)

    @strawberry.field
    async def components(self, info: Info) -> list[WorkOrderComponent]:
        rows = await info.context.loaders.production.components.load(self.pk)
        return [WorkOrderComponent.from_row(row) for row in rows]

    @strawberry.field(
        description="Null until costing has run, or when the viewer may not see costs."
    )
    @visible_with(Scope.COSTING_READ)
    async def cost(self, info: Info) -> WorkOrderCost | None:
        row = await info.context.loaders.costing.work_order_cost.load(self.pk)
        return None if row is None else WorkOrderCost.from_row(row)

    @classmethod
    def from_row(cls, row: RowOf[models.WorkOrder]) -> WorkOrder:
        return cls(
            pk=row.id, row=row, number=row.number, quantity=row.quantity,
            completed_quantity=row.completed_quantity, status=WorkOrderStatus(row.status),
            start_date=row.start_date, due_date=row.due_date,
        )


@strawberry.type
class WorkOrderPayload:
    work_order: WorkOrder | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WorkOrdersPayload:
    work_orders: list[WorkOrder] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class KittingLine:
    item_pk: strawberry.Private[int]
    required: Decimal
    available: Decimal
    shortage: Decimal
    covered_on: date | None = strawberry.field(
        description="Earliest date the shortage is covered by scheduled receipts; null when not covered."
    )

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.item_pk)))


@strawberry.type(
    description="Can an order or work order be built/shipped from stock now? (kitting / shortage analysis)"
)
class KittingAnalysis:
    complete: bool
    buildable_quantity: Decimal = strawberry.field(
        description=(
            "How many units of the parent (work order) or how many whole order lines could be covered now."
        )
    )
    lines: list[KittingLine]

    @classmethod
    def from_kit(cls, kit: Kit) -> KittingAnalysis:
        return cls(
            complete=kit.complete,
            buildable_quantity=kit.buildable,
            lines=[
                KittingLine(item_pk=line.item_id, required=line.required, available=line.available,
                            shortage=line.shortage, covered_on=line.covered_on)
                for line in kit.lines
            ],
        )
