from __future__ import annotations

from datetime import date

import strawberry

from api.context import Info
from api.permissions import command
from api.relay import decode_id
from api.sales.inputs import QuoteInput, SalesOrderInput
from api.sales.types import Quote, QuotePayload, SalesOrder, SalesOrderPayload
from domain.identity.scopes import Scope
from domain.sales import orders, quotes


@strawberry.type
class SalesMutation:
    @strawberry.mutation
    @command(Scope.SALES_WRITE)
    async def create_quote(self, info: Info, input: QuoteInput) -> QuotePayload:
        data = input.to_domain()
        async with info.context.sessionmaker.begin() as session:
            row = await quotes.create_quote(session, data, actor=info.context.viewer.name)
        return QuotePayload(quote=Quote.from_row(row))

    @strawberry.mutation(description="Accepts the quote and creates a DRAFT order from it.")
    @command(Scope.SALES_WRITE)
    async def convert_quote_to_order(self, info: Info, id: strawberry.ID) -> SalesOrderPayload:
        pk = decode_id(id, "Quote", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await quotes.convert_quote(
                session, pk, today=date.today(), actor=info.context.viewer.name
            )
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation
    @command(Scope.SALES_WRITE)
    async def create_sales_order(self, info: Info, input: SalesOrderInput) -> SalesOrderPayload:
        data = input.to_domain()
        async with info.context.sessionmaker.begin() as session:
            row = await orders.create_order(session, data, actor=info.context.viewer.name)
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation(
        description=(
            "Runs the credit check, reserves stock (never more than is available) "
            "and sets promisedDate."
        )
    )
    @command(Scope.SALES_WRITE)
    async def confirm_sales_order(self, info: Info, id: strawberry.ID) -> SalesOrderPayload:
        pk = decode_id(id, "SalesOrder", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await orders.confirm_order(
                session, pk, today=date.today(),
                max_days_overdue=info.context.settings.credit_max_days_overdue,
                actor=info.context.viewer.name,
            )
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation(description="Finance approval of an order on CREDIT_HOLD: it is then confirmed.")
    @command(Scope.FINANCE_WRITE)
    async def release_credit_hold(
        self, info: Info, id: strawberry.ID, note: str
    ) -> SalesOrderPayload:
        pk = decode_id(id, "SalesOrder", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await orders.release_credit_hold(
                session, pk, note, today=date.today(), actor=info.context.viewer.name
            )
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation
    @command(Scope.SALES_WRITE)
    async def cancel_sales_order(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> SalesOrderPayload:
        pk = decode_id(id, "SalesOrder", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await orders.cancel_order(session, pk, reason, actor=info.context.viewer.name)
        return SalesOrderPayload(order=SalesOrder.from_row(row))
