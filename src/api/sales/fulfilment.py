"""Shipments in the graph: types, input and the ``shipSalesOrder`` mutation."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.context import Info
from api.dataloaders import RowOf, present
from api.errors import UserError
from api.inventory.types import Item
from api.permissions import Command, command
from api.relay import Node, decode_id
from api.sales.types import SalesOrder
from domain.identity.scopes import Scope
from domain.sales import fulfilment
from domain.sales.models import Shipment as ShipmentRow


@strawberry.type
class ShipmentLine:
    item_pk: strawberry.Private[int]
    quantity: Decimal

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.item_pk)))


@strawberry.type
class Shipment(Node):
    row: strawberry.Private[RowOf[ShipmentRow]]
    number: str
    shipped_at: datetime
    carrier: str | None
    tracking_number: str | None

    @strawberry.field
    async def sales_order(self, info: Info) -> SalesOrder:
        return SalesOrder.from_row(present(await info.context.loaders.sales.order.load(self.row.order_id)))

    @strawberry.field
    async def lines(self, info: Info) -> list[ShipmentLine]:
        rows = await info.context.loaders.sales.shipment_lines.load(self.pk)
        return [ShipmentLine(item_pk=row.item_id, quantity=row.quantity) for row in rows]

    @classmethod
    def from_row(cls, row: RowOf[ShipmentRow]) -> Shipment:
        return cls(
            pk=row.id, row=row, number=row.number, shipped_at=row.shipped_at, carrier=row.carrier,
            tracking_number=row.tracking_number,
        )


@strawberry.input
class ShipmentLineInput:
    line_id: strawberry.ID
    quantity: Decimal


@strawberry.input
class ShipmentInput:
    order_id: strawberry.ID
    lines: list[ShipmentLineInput] | None = strawberry.field(
        default=None, description="Omitted: ship everything reserved."
    )
    carrier: str | None = None
    tracking_number: str | None = None

    def to_domain(self) -> fulfilment.ShipmentRequest:
        lines = None
        if self.lines is not None:
            lines = [
                fulfilment.ShipLine(
                    line_id=decode_id(line.line_id, "SalesOrderLine", "lines", str(i), "lineId"),
                    quantity=line.quantity,
                )
                for i, line in enumerate(self.lines)
            ]
        return fulfilment.ShipmentRequest(
            order_id=decode_id(self.order_id, "SalesOrder", "orderId"),
            lines=lines, carrier=self.carrier, tracking_number=self.tracking_number,
        )


@strawberry.type
class ShipmentPayload:
    shipment: Shipment | None = None
    order: SalesOrder | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FulfilmentMutation:
    @strawberry.mutation
    @command(Scope.SALES_FULFIL)
    async def ship_sales_order(self, cmd: Command, input: ShipmentInput) -> ShipmentPayload:
        request = input.to_domain()
        order, shipment = await fulfilment.ship_order(cmd.session, request, actor=cmd.actor)
        return ShipmentPayload(shipment=Shipment.from_row(shipment), order=SalesOrder.from_row(order))
