from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.context import Info
from api.costing.margin_types import Margin
from api.dataloaders import RowOf, present
from api.enums import expose
from api.errors import UserError
from api.integration.types import ExternalRef
from api.inventory.types import Item
from api.permissions import visible_with
from api.relay import Node
from domain.identity.scopes import Scope
from domain.sales import models
from domain.sales.quotes import effective_status
from domain.sales.reservations import backordered, has_backorders

if TYPE_CHECKING:
    from api.crm.pipeline_types import Opportunity
    from api.crm.types import Customer
    from api.finance.types import Invoice
    from api.production.types import WorkOrder
    from api.sales.fulfilment import Shipment
    from api.sales.subscriptions import OrderStatusEvent

CustomerRef = Annotated["Customer", strawberry.lazy("api.crm.types")]

# The domain's enums, served as the schema's (the domain stays strawberry-free).
QuoteStatus = models.QuoteStatus
OrderStatus = models.OrderStatus
expose(
    QuoteStatus,
    name="QuoteStatus",
    descriptions={
        QuoteStatus.EXPIRED: (
            "A DRAFT or SENT quote whose validUntil has passed (from the next day on); it cannot be "
            "sent or converted. Never stored: updateQuote with a new validUntil revives a DRAFT."
        ),
    },
)
expose(
    OrderStatus,
    name="OrderStatus",
    descriptions={
        OrderStatus.CREDIT_HOLD: "Confirmation was blocked by the credit policy; waits for approval by finance.",
        OrderStatus.CLOSED: "Shipped, invoiced and fully paid.",
    },
)


async def customer_of(info: Info, customer_id: int) -> Customer:
    """The GraphQL ``Customer`` of a row's ``customer_id`` (through the request's loader)."""
    from api.crm.types import Customer

    return Customer.from_row(present(await info.context.loaders.crm.customer.load(customer_id)))


@strawberry.type
class QuoteLine:
    item_pk: strawberry.Private[int]
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = strawberry.field(description="Percent, 0-100.")
    tax_rate: Decimal = strawberry.field(description="Percent, e.g. 13 for 13% VAT.")
    line_total: Decimal = strawberry.field(
        description="quantity * unitPrice * (1 - discountPercent/100), before tax."
    )

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.item_pk)))

    @classmethod
    def from_row(cls, row: RowOf[models.QuoteLine]) -> QuoteLine:
        return cls(
            item_pk=row.item_id, quantity=row.quantity, unit_price=row.unit_price,
            discount_percent=row.discount_percent, tax_rate=row.tax_rate, line_total=row.line_total,
        )


@strawberry.type
class Quote(Node):
    row: strawberry.Private[RowOf[models.Quote]]
    number: str
    status: QuoteStatus = strawberry.field(
        description="EXPIRED once validUntil has passed, for a DRAFT or SENT quote (read today)."
    )
    valid_until: date | None
    notes: str | None
    rejection_reason: str | None = strawberry.field(description="Why the customer rejected it.")
    version: int = strawberry.field(
        description="Raised by every change; give it as updateQuote's expectedVersion."
    )
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    created_at: datetime

    @strawberry.field
    async def customer(self, info: Info) -> CustomerRef:
        return await customer_of(info, self.row.customer_id)

    @strawberry.field
    async def lines(self, info: Info) -> list[QuoteLine]:
        rows = await info.context.loaders.sales.quote_lines.load(self.pk)
        return [QuoteLine.from_row(row) for row in rows]

    @strawberry.field
    async def opportunity(
        self, info: Info
    ) -> Annotated[Opportunity, strawberry.lazy("api.crm.pipeline_types")] | None:
        from api.crm.pipeline_types import Opportunity
        from api.permissions import can
        from domain.identity.scopes import Scope

        if self.row.opportunity_id is None or not can(info, Scope.PIPELINE_READ):
            return None
        return Opportunity.from_row(present(await info.context.loaders.crm.opportunity.load(self.row.opportunity_id)))

    @strawberry.field
    async def sales_order(self, info: Info) -> SalesOrder | None:
        row = await info.context.loaders.sales.order_by_quote.load(self.pk)
        return None if row is None else SalesOrder.from_row(row)

    @classmethod
    def from_row(cls, row: RowOf[models.Quote]) -> Quote:
        return cls(
            pk=row.id, row=row, number=row.number,
            status=effective_status(row.status, row.valid_until, date.today()),
            valid_until=row.valid_until, notes=row.notes, rejection_reason=row.rejection_reason,
            version=row.version, subtotal=row.subtotal, tax_total=row.tax_total,
            total=row.total, created_at=row.created_at,
        )


@strawberry.type
class SalesOrderLine(Node):
    row: strawberry.Private[RowOf[models.SalesOrderLine]]
    order_status: strawberry.Private[str]
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    line_total: Decimal
    shipped_quantity: Decimal
    cancelled_quantity: Decimal = strawberry.field(
        description="Cancelled by closeSalesOrderShort: what was still unshipped when the order was closed."
    )
    promised_date: date | None

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.row.item_id)))

    @strawberry.field(description="Reserved from on-hand stock and not yet shipped.")
    async def reserved_quantity(self, info: Info) -> Decimal:
        return await info.context.loaders.sales.reserved.load(self.pk)

    @strawberry.field(description="quantity - shippedQuantity - reservedQuantity, for a confirmed order.")
    async def backordered_quantity(self, info: Info) -> Decimal:
        # the reservation is read only for an order that can have backorders
        reserved = (
            await info.context.loaders.sales.reserved.load(self.pk) if has_backorders(self.order_status)
            else Decimal(0)
        )
        return backordered(
            self.order_status, self.quantity, self.shipped_quantity, reserved, self.cancelled_quantity
        )

    @classmethod
    def from_row(cls, row: RowOf[models.SalesOrderLine], order_status: str) -> SalesOrderLine:
        return cls(
            pk=row.id, row=row, order_status=order_status, quantity=row.quantity,
            unit_price=row.unit_price, discount_percent=row.discount_percent, tax_rate=row.tax_rate,
            line_total=row.line_total, shipped_quantity=row.shipped_quantity,
            cancelled_quantity=row.cancelled_quantity, promised_date=row.promised_date,
        )


@strawberry.type
class SalesOrder(Node):
    row: strawberry.Private[RowOf[models.SalesOrder]]
    number: str
    status: OrderStatus
    currency: str
    requested_date: date | None
    promised_date: date | None = strawberry.field(
        description=(
            "Date the whole order can be delivered, from stock, receipts and planned production; "
            "null before confirmation."
        )
    )
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    credit_hold_reason: str | None
    notes: str | None
    version: int = strawberry.field(
        description="Raised by every change; give it as updateSalesOrder's expectedVersion."
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    async def customer(self, info: Info) -> CustomerRef:
        return await customer_of(info, self.row.customer_id)

    @strawberry.field(description=(
        "What the order earned so far: invoiced (net of credit notes) or shipped revenue, less the cost "
        "its shipped units left stock at. Null unless the viewer may see costs."
    ))
    @visible_with(Scope.COSTING_READ)
    async def margin(self, info: Info) -> Margin | None:
        return Margin.of(await info.context.loaders.costing.order_figures.load(self.pk))

    @strawberry.field
    async def quote(self, info: Info) -> Quote | None:
        if self.row.quote_id is None:
            return None
        return Quote.from_row(present(await info.context.loaders.sales.quote.load(self.row.quote_id)))

    @strawberry.field
    async def lines(self, info: Info) -> list[SalesOrderLine]:
        rows = await info.context.loaders.sales.order_lines.load(self.pk)
        return [SalesOrderLine.from_row(row, self.row.status) for row in rows]

    @strawberry.field
    async def shipments(
        self, info: Info
    ) -> list[Annotated[Shipment, strawberry.lazy("api.sales.fulfilment")]]:
        from api.sales.fulfilment import Shipment

        rows = await info.context.loaders.sales.shipments_by_order.load(self.pk)
        return [Shipment.from_row(row) for row in rows]

    @strawberry.field
    async def invoices(self, info: Info) -> list[Annotated[Invoice, strawberry.lazy("api.finance.types")]]:
        from api.finance.types import Invoice

        rows = await info.context.loaders.finance.invoices_by_order.load(self.pk)
        return [Invoice.from_row(row) for row in rows]

    @strawberry.field(description="Work orders made for this order; empty without production:read.")
    @visible_with(Scope.PRODUCTION_READ, hidden=[])
    async def work_orders(
        self, info: Info
    ) -> list[Annotated[WorkOrder, strawberry.lazy("api.production.types")]]:
        from api.production.types import WorkOrder

        rows = await info.context.loaders.production.by_sales_order.load(self.pk)
        return [WorkOrder.from_row(row) for row in rows]

    @strawberry.field
    async def status_history(
        self, info: Info
    ) -> list[Annotated[OrderStatusEvent, strawberry.lazy("api.sales.subscriptions")]]:
        from api.sales.subscriptions import OrderStatusEvent

        changes = await info.context.loaders.sales.status_history.load(self.pk)
        return [OrderStatusEvent.from_change(change) for change in changes]

    @strawberry.field
    async def external_refs(self, info: Info) -> list[ExternalRef]:
        rows = await info.context.loaders.integration.external_refs.load(("SalesOrder", self.pk))
        return [ExternalRef.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: RowOf[models.SalesOrder]) -> SalesOrder:
        return cls(
            pk=row.id, row=row, number=row.number, status=OrderStatus(row.status),
            currency=row.currency, requested_date=row.requested_date, promised_date=row.promised_date,
            subtotal=row.subtotal, tax_total=row.tax_total, total=row.total,
            credit_hold_reason=row.credit_hold_reason, notes=row.notes, version=row.version,
            created_at=row.created_at, updated_at=row.updated_at,
        )


@strawberry.type
class QuotePayload:
    quote: Quote | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="Stock reserved for an order line that was waiting for it.")
class StockAllocation:
    line: SalesOrderLine
    order: SalesOrder
    quantity: Decimal


@strawberry.type
class AllocateStockPayload:
    allocations: list[StockAllocation] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SalesOrderPayload:
    order: SalesOrder | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
