"""``Query.shipments``: every shipment, or those of one order or one customer."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, select

from api.context import Info
from api.permissions import requires
from api.relay import Connection, existing_id, paginate
from api.sales.fulfilment import Shipment
from domain.identity.scopes import Scope
from domain.sales.models import SalesOrder as OrderRow
from domain.sales.models import Shipment as ShipmentRow


def shipments_statement(order_id: int | None, customer_id: int | None) -> Select[Any]:
    stmt = select(ShipmentRow.__table__)
    if order_id is not None:
        stmt = stmt.where(ShipmentRow.order_id == order_id)
    if customer_id is not None:
        stmt = stmt.where(
            ShipmentRow.order_id.in_(select(OrderRow.id).where(OrderRow.customer_id == customer_id))
        )
    return stmt


@strawberry.type
class FulfilmentQuery:
    @strawberry.field(
        permission_classes=[requires(Scope.SALES_READ)],
        description="Shipments in the order they were made; orderId and customerId narrow them (both: both apply).",
    )
    async def shipments(
        self, info: Info, first: int | None = None, after: str | None = None,
        order_id: strawberry.ID | None = None, customer_id: strawberry.ID | None = None,
    ) -> Connection[Shipment]:
        loaders = info.context.loaders
        order = None if order_id is None else await existing_id(order_id, "SalesOrder", "orderId", loaders.sales.order)
        customer = (
            None if customer_id is None
            else await existing_id(customer_id, "Customer", "customerId", loaders.crm.customer)
        )
        stmt = shipments_statement(order, customer)
        return await paginate(info, stmt, ShipmentRow.id, Shipment.from_row, first=first, after=after)
