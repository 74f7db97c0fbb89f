from __future__ import annotations

import strawberry

from api.permissions import Command, command
from api.relay import decode_id, decode_ids
from api.sales.inputs import QuoteInput, QuoteUpdateInput, SalesOrderInput, SalesOrderUpdateInput
from api.sales.types import (
    AllocateStockPayload,
    Quote,
    QuotePayload,
    SalesOrder,
    SalesOrderLine,
    SalesOrderPayload,
    StockAllocation,
)
from domain.identity.scopes import Scope
from domain.sales import backorders, orders, quotes


@strawberry.type
class SalesMutation:
    @strawberry.mutation
    @command(Scope.SALES_WRITE)
    async def create_quote(self, cmd: Command, input: QuoteInput) -> QuotePayload:
        data = input.to_domain()
        row = await quotes.create_quote(cmd.session, data, actor=cmd.actor)
        return QuotePayload(quote=Quote.from_row(row))

    @strawberry.mutation(description=(
        "Edits a DRAFT quote (an expired one too: a new validUntil revives it); lines given replace "
        "all lines. Anything else is INVALID_STATE."
    ))
    @command(Scope.SALES_WRITE)
    async def update_quote(self, cmd: Command, id: strawberry.ID, input: QuoteUpdateInput) -> QuotePayload:
        pk = decode_id(id, "Quote", "id")
        row = await quotes.update_quote(
            cmd.session, pk, input.changes(), today=cmd.today,
            expected_version=input.expected_version, actor=cmd.actor,
        )
        return QuotePayload(quote=Quote.from_row(row))

    @strawberry.mutation(description="DRAFT → SENT; an expired quote is not sent (update its validUntil first).")
    @command(Scope.SALES_WRITE)
    async def send_quote(self, cmd: Command, id: strawberry.ID) -> QuotePayload:
        pk = decode_id(id, "Quote", "id")
        row = await quotes.send_quote(cmd.session, pk, today=cmd.today, actor=cmd.actor)
        return QuotePayload(quote=Quote.from_row(row))

    @strawberry.mutation(description="DRAFT or SENT (expired too) → REJECTED, with the customer's reason.")
    @command(Scope.SALES_WRITE)
    async def reject_quote(self, cmd: Command, id: strawberry.ID, reason: str) -> QuotePayload:
        pk = decode_id(id, "Quote", "id")
        row = await quotes.reject_quote(cmd.session, pk, reason, today=cmd.today, actor=cmd.actor)
        return QuotePayload(quote=Quote.from_row(row))

    @strawberry.mutation(description=(
        "Accepts a DRAFT or SENT quote that has not expired and creates a DRAFT order from it."
    ))
    @command(Scope.SALES_WRITE)
    async def convert_quote_to_order(self, cmd: Command, id: strawberry.ID) -> SalesOrderPayload:
        pk = decode_id(id, "Quote", "id")
        row = await quotes.convert_quote(cmd.session, pk, today=cmd.today, actor=cmd.actor)
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation
    @command(Scope.SALES_WRITE)
    async def create_sales_order(self, cmd: Command, input: SalesOrderInput) -> SalesOrderPayload:
        data = input.to_domain()
        row = await orders.create_order(cmd.session, data, actor=cmd.actor)
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation(description=(
        "Edits a DRAFT order: lines given replace all lines and are re-priced as in createSalesOrder. "
        "Any other status (CREDIT_HOLD too) is INVALID_STATE."
    ))
    @command(Scope.SALES_WRITE)
    async def update_sales_order(
        self, cmd: Command, id: strawberry.ID, input: SalesOrderUpdateInput
    ) -> SalesOrderPayload:
        pk = decode_id(id, "SalesOrder", "id")
        row = await orders.update_order(
            cmd.session, pk, input.changes(), expected_version=input.expected_version, actor=cmd.actor
        )
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation(
        description=(
            "Runs the credit check, reserves stock (never more than is available) "
            "and sets promisedDate."
        )
    )
    @command(Scope.SALES_WRITE)
    async def confirm_sales_order(self, cmd: Command, id: strawberry.ID) -> SalesOrderPayload:
        pk = decode_id(id, "SalesOrder", "id")
        row = await orders.confirm_order(
            cmd.session, pk, today=cmd.today,
            max_days_overdue=cmd.settings.credit_max_days_overdue, actor=cmd.actor,
        )
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation(description="Finance approval of an order on CREDIT_HOLD: it is then confirmed.")
    @command(Scope.FINANCE_WRITE)
    async def release_credit_hold(
        self, cmd: Command, id: strawberry.ID, note: str
    ) -> SalesOrderPayload:
        pk = decode_id(id, "SalesOrder", "id")
        row = await orders.release_credit_hold(cmd.session, pk, note, today=cmd.today, actor=cmd.actor)
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation(
        description=(
            "Reserves free stock of the items for the order lines waiting for it: earliest promised "
            "date first, then earliest confirmation, then order number. It happens by itself a "
            "moment after stock arrives or a reservation is released; this runs it now (after "
            "fixing data, say). Nothing waiting: no allocations."
        )
    )
    @command(Scope.INVENTORY_WRITE)
    async def allocate_stock(self, cmd: Command, item_ids: list[strawberry.ID]) -> AllocateStockPayload:
        pks = decode_ids(item_ids, "Item", "itemIds")
        await backorders.check_items(cmd.session, pks)
        allocations = await backorders.allocate_backorders(
            cmd.session, pks, today=cmd.today, source=f"allocateStock by {cmd.actor}", actor=cmd.actor
        )
        return AllocateStockPayload(allocations=[
            StockAllocation(line=SalesOrderLine.from_row(a.line, a.order.status),
                            order=SalesOrder.from_row(a.order), quantity=a.quantity)
            for a in allocations
        ])

    @strawberry.mutation(
        description=(
            "Cancels what is not yet shipped on every line (cancelledQuantity) and releases its "
            "reservations, which go on to orders waiting for the stock. The order becomes SHIPPED "
            "if anything shipped (invoice and payment then close it), else CANCELLED."
        )
    )
    @command(Scope.SALES_FULFIL)
    async def close_sales_order_short(self, cmd: Command, id: strawberry.ID, reason: str) -> SalesOrderPayload:
        pk = decode_id(id, "SalesOrder", "id")
        row = await orders.close_short(cmd.session, pk, reason, actor=cmd.actor)
        return SalesOrderPayload(order=SalesOrder.from_row(row))

    @strawberry.mutation(
        description="Cancels an order nothing of which has shipped; see closeSalesOrderShort for one that has."
    )
    @command(Scope.SALES_FULFIL)
    async def cancel_sales_order(
        self, cmd: Command, id: strawberry.ID, reason: str
    ) -> SalesOrderPayload:
        pk = decode_id(id, "SalesOrder", "id")
        row = await orders.cancel_order(cmd.session, pk, reason, actor=cmd.actor)
        return SalesOrderPayload(order=SalesOrder.from_row(row))
