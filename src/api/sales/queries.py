from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy import Select, or_, select

from api.context import Info
from api.permissions import requires
from api.relay import Connection, existing_id, lookup, paginate
from api.sales.types import OrderStatus, Quote, QuoteStatus, SalesOrder
from api.search import contains
from domain.crm.models import Customer as CustomerRow
from domain.identity.scopes import Scope
from domain.sales.models import Quote as QuoteRow
from domain.sales.models import SalesOrder as OrderRow
from domain.sales.quotes import status_column


def orders_statement(customer_id: int | None, status: list[OrderStatus] | None) -> Select[Any]:
    stmt = select(OrderRow.__table__)
    if customer_id is not None:
        stmt = stmt.where(OrderRow.customer_id == customer_id)
    if status:
        stmt = stmt.where(OrderRow.status.in_([s.value for s in status]))
    return stmt


def quotes_statement(
    customer_id: int | None, status: list[QuoteStatus] | None, search: str | None, today: date
) -> Select[Any]:
    stmt = select(QuoteRow.__table__)
    if customer_id is not None:
        stmt = stmt.where(QuoteRow.customer_id == customer_id)
    if status:
        # the status as it reads today: EXPIRED is not stored
        stmt = stmt.where(status_column(today).in_([s.value for s in status]))
    if search and search.strip():
        pattern = contains(search)
        customers = select(CustomerRow.id).where(
            or_(CustomerRow.name.ilike(pattern), CustomerRow.code.ilike(pattern))
        )
        stmt = stmt.where(or_(QuoteRow.number.ilike(pattern), QuoteRow.customer_id.in_(customers)))
    return stmt


async def _customer(info: Info, customer_id: strawberry.ID | None) -> int | None:
    """The customer a list is narrowed to: a bad or unknown id is an error (like every
    other list's filter), not an empty page."""
    if customer_id is None:
        return None
    return await existing_id(customer_id, "Customer", "customerId", info.context.loaders.crm.customer)


@strawberry.type
class SalesQuery:
    @strawberry.field(
        permission_classes=[requires(Scope.SALES_READ)],
        description=(
            "Quotes in id order. status filters by the status as it reads today (EXPIRED included); "
            "search matches the quote number or the customer's name or code (case-insensitive)."
        ),
    )
    async def quotes(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: list[QuoteStatus] | None = None, customer_id: strawberry.ID | None = None,
        search: str | None = None,
    ) -> Connection[Quote]:
        stmt = quotes_statement(await _customer(info, customer_id), status, search, date.today())
        return await paginate(info, stmt, QuoteRow.id, Quote.from_row, first=first, after=after,
                              search=bool(search))

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
        stmt = orders_statement(await _customer(info, customer_id), status)
        return await paginate(info, stmt, OrderRow.id, SalesOrder.from_row, first=first, after=after)
