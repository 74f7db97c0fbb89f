from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.context import Info
from api.costing.margin_types import CustomerProfitability
from api.dataloaders import RowOf
from api.errors import UserError
from api.finance.types import (
    CreditNote,
    CreditStatus,
    Invoice,
    InvoiceStatus,
    ReadsReceivables,
    customer_credit,
    customer_credit_notes,
    customer_invoices,
)
from api.integration.types import ExternalRef
from api.permissions import requires, visible_with
from api.relay import Connection, Node, child_page
from domain.crm.models import Contact as ContactRow
from domain.crm.models import CreditLimitChange as CreditLimitChangeRow
from domain.crm.models import Customer as CustomerRow
from domain.identity.scopes import Scope
from domain.shared.errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from api.crm.pipeline_types import Opportunity
    from api.sales.types import OrderStatus, Quote, SalesOrder


@strawberry.type
class Contact(Node):
    name: str
    email: str | None
    phone: str | None
    title: str | None

    @classmethod
    def from_row(cls, row: RowOf[ContactRow]) -> Contact:
        return cls(pk=row.id, name=row.name, email=row.email, phone=row.phone, title=row.title)


@strawberry.type(description="One change of a customer's credit limit (previousLimit null: set on create).")
class CreditLimitChange:
    previous_limit: Decimal | None
    new_limit: Decimal
    changed_by: str
    changed_at: datetime

    @classmethod
    def from_row(cls, row: RowOf[CreditLimitChangeRow]) -> CreditLimitChange:
        return cls(
            previous_limit=row.previous_limit, new_limit=row.new_limit,
            changed_by=row.changed_by, changed_at=row.changed_at,
        )


@strawberry.type
class Customer(Node):
    code: str
    name: str
    email: str | None
    phone: str | None
    segment: str | None
    tags: list[str]
    payment_terms_days: int
    credit_limit: Decimal
    version: int = strawberry.field(description="Raised by every change; send it back as expectedVersion.")
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    async def contacts(self, info: Info) -> list[Contact]:
        rows = await info.context.loaders.crm.contacts_by_customer.load(self.pk)
        return [Contact.from_row(row) for row in rows]

    @strawberry.field
    async def quotes(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Quote, strawberry.lazy("api.sales.types")]]:
        from api.sales.types import Quote

        loaders = info.context.loaders.sales
        return await child_page(
            loaders.customer_quotes, loaders.customer_quote_count, self.pk, Quote.from_row,
            first=first, after=after,
        )

    @strawberry.field
    async def orders(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: list[Annotated[OrderStatus, strawberry.lazy("api.sales.types")]] | None = None,
    ) -> Connection[Annotated[SalesOrder, strawberry.lazy("api.sales.types")]]:
        from api.sales.types import SalesOrder

        loaders = info.context.loaders.sales
        return await child_page(
            loaders.customer_orders, loaders.customer_order_count, self.pk, SalesOrder.from_row,
            first=first, after=after, values=tuple(sorted(s.value for s in status)) if status else None,
        )

    @strawberry.field(permission_classes=[requires(Scope.PIPELINE_READ)])
    async def opportunities(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Opportunity, strawberry.lazy("api.crm.pipeline_types")]]:
        from api.crm.pipeline_types import Opportunity

        loaders = info.context.loaders.crm
        return await child_page(
            loaders.customer_opportunities, loaders.customer_opportunity_count, self.pk, Opportunity.from_row,
            first=first, after=after,
        )

    @strawberry.field(
        permission_classes=[requires(Scope.CREDIT_READ)],
        description="Needs credit:read (every role that reads sales or finance; not partners).",
    )
    async def credit(self, info: Info) -> CreditStatus:
        return await customer_credit(info, self.pk)

    @strawberry.field(
        permission_classes=[requires(Scope.CREDIT_READ)],
        description="Every change of the credit limit, newest first. Needs credit:read, like credit.",
    )
    async def credit_limit_history(self, info: Info) -> list[CreditLimitChange]:
        rows = await info.context.loaders.crm.credit_limit_history.load(self.pk)
        return [CreditLimitChange.from_row(row) for row in reversed(rows)]

    @strawberry.field(description=(
        "The margin of the customer's orders placed from `from` to `to` (both days included, each "
        "optional). Null unless the viewer may see costs."
    ))
    @visible_with(Scope.COSTING_READ)
    async def profitability(
        self, info: Info,
        start: Annotated[date | None, strawberry.argument(name="from")] = None,
        end: Annotated[date | None, strawberry.argument(name="to")] = None,
    ) -> CustomerProfitability | None:
        if start is not None and end is not None and end < start:
            raise DomainError.one(ErrorCode.INVALID, "must not be before from", ["to"])
        costing = info.context.loaders.costing
        figures = await costing.order_figures.load_many(await costing.customer_orders.load((self.pk, start, end)))
        return CustomerProfitability.of_orders(start, end, list(figures))

    @strawberry.field(permission_classes=[ReadsReceivables])
    async def invoices(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: list[InvoiceStatus] | None = None,
    ) -> Connection[Invoice]:
        return await customer_invoices(info, self.pk, first, after, status)

    @strawberry.field(permission_classes=[ReadsReceivables])
    async def credit_notes(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[CreditNote]:
        return await customer_credit_notes(info, self.pk, first, after)

    @strawberry.field
    async def external_refs(self, info: Info) -> list[ExternalRef]:
        rows = await info.context.loaders.integration.external_refs.load(("Customer", self.pk))
        return [ExternalRef.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: RowOf[CustomerRow]) -> Customer:
        return cls(
            pk=row.id, code=row.code, name=row.name, email=row.email, phone=row.phone,
            segment=row.segment, tags=list(row.tags), payment_terms_days=row.payment_terms_days,
            credit_limit=row.credit_limit, version=row.version, created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class CustomerPayload:
    customer: Customer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
