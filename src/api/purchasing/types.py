from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.context import Info
from api.dataloaders import RowOf, present
from api.enums import expose
from api.errors import UserError
from api.inventory.types import Item
from api.permissions import visible_with
from api.purchasing.supplier_types import Supplier
from api.relay import Node, to_global_id
from domain.identity.scopes import Scope
from domain.purchasing import models

# The domain's enum, served as the schema's (the domain stays strawberry-free).
PurchaseOrderStatus = models.PurchaseOrderStatus
expose(PurchaseOrderStatus, name="PurchaseOrderStatus")


@strawberry.type
class PurchaseOrderLine:
    pk: strawberry.Private[int]
    item_pk: strawberry.Private[int]
    quantity: Decimal
    received_quantity: Decimal
    cancelled_quantity: Decimal = strawberry.field(
        description="What cancelPurchaseOrder took off the line: no longer expected."
    )
    cost: strawberry.Private[Decimal | None]
    due_date: date

    @strawberry.field(description=(
        "Null unless the viewer may see costs (costing:read); purchasing:write sets it all the same."
    ))
    @visible_with(Scope.COSTING_READ)
    def unit_cost(self, info: Info) -> Decimal | None:
        return self.cost

    @strawberry.field(description="Names the line in updatePurchaseOrder's lines.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("PurchaseOrderLine", self.pk))

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.item_pk)))

    @classmethod
    def from_row(cls, row: RowOf[models.PurchaseOrderLine]) -> PurchaseOrderLine:
        return cls(
            pk=row.id, item_pk=row.item_id, quantity=row.quantity, received_quantity=row.received_quantity,
            cancelled_quantity=row.cancelled_quantity, cost=row.unit_cost, due_date=row.due_date,
        )


@strawberry.type
class PurchaseOrder(Node):
    number: str
    supplier_pk: strawberry.Private[int]
    status: PurchaseOrderStatus
    subcontract: bool = strawberry.field(
        description="SUBCONTRACT orders buy processing from the supplier; components are issued to it."
    )

    @strawberry.field
    async def supplier(self, info: Info) -> Supplier:
        return Supplier.from_row(present(await info.context.loaders.purchasing.supplier.load(self.supplier_pk)))

    @strawberry.field
    async def lines(self, info: Info) -> list[PurchaseOrderLine]:
        rows = await info.context.loaders.purchasing.order_lines.load(self.pk)
        return [PurchaseOrderLine.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: RowOf[models.PurchaseOrder]) -> PurchaseOrder:
        return cls(
            pk=row.id, number=row.number, supplier_pk=row.supplier_id,
            status=PurchaseOrderStatus(row.status), subcontract=row.subcontract,
        )


@strawberry.type
class PurchaseOrderPayload:
    purchase_order: PurchaseOrder | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
