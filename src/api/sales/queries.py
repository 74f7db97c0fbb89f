from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, select

from api.context import Info
from api.permissions import requires
from api.relay import Connection, decode_id, lookup, paginate
from api.sales.types import OrderStatus, SalesOrder
from domain.identity.scopes import Scope
from domain.sales.models import SalesOrder as OrderRow
from domain.shared.errors import DomainError


def orders_statement(customer_id: int | None, status: list[OrderStatus] | None) -> Select[Any]:
    stmt = select(OrderRow.__table__)
    if customer_id is not None:
        stmt = stmt.where(OrderRow.customer_id == customer_id)
    if status:
        stmt = stmt.where(OrderRow.status.in_([s.value for s in status]))
    return stmt


@strawberry.type
class SalesQuery:
    @strawberry.field(permission_classes=[requires(Scope.SALES_READ)])
    async def sales_order(
        self, info: Info, id: strawberry.ID | None = None, number: str | None = None
    ) -> SalesOrder | None:
        row = await lookup(
            info, OrderRow, "SalesOrder", info.context.loaders.sales.order,
            id=id, key_column=OrderRow.number, key=number,
        )
        return None if row is None else SalesOrder.from_row(row)

    @strawberry.field(permission_classes=[requires(Scope.SALES_READ)])
    async def sales_orders(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: list[OrderStatus] | None = None, customer_id: strawberry.ID | None = None,
    ) -> Connection[SalesOrder]:
        try:
            customer = decode_id(customer_id, "Customer", "customerId") if customer_id else None
        except DomainError:
            customer = 0  # no customer has id 0: an unknown customer has no orders
        stmt = orders_statement(customer, status)
        return await paginate(info, stmt, OrderRow.id, SalesOrder.from_row, first=first, after=after)
