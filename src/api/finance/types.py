"""Receivables in the graph: invoices, payments, credit notes and a customer's credit position."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.permission import BasePermission

from api.context import Info
from api.dataloaders import RowOf, present
from api.enums import expose
from api.errors import UserError
from api.permissions import can
from api.relay import Connection, Node, child_page
from api.sales.types import customer_of
from domain.finance import models
from domain.finance.credit import CreditPosition, invoice_days_overdue
from domain.identity.scopes import Scope

if TYPE_CHECKING:
    from api.crm.types import Customer
    from api.sales.types import SalesOrder

CustomerRef = Annotated["Customer", strawberry.lazy("api.crm.types")]
SalesOrderRef = Annotated["SalesOrder", strawberry.lazy("api.sales.types")]


class ReadsReceivables(BasePermission):
    """Finance reads receivables; sales reads them too, to see credit before promising."""

    message = "FORBIDDEN: needs scope finance:read or sales:read"
    scopes = (Scope.FINANCE_READ, Scope.SALES_READ)  # read by api.authorization
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 - strawberry reads it per instance

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return can(info, Scope.FINANCE_READ) or can(info, Scope.SALES_READ)


# The domain's enum, served as the schema's (the domain stays strawberry-free).
InvoiceStatus = models.InvoiceStatus
expose(
    InvoiceStatus,
    name="InvoiceStatus",
    descriptions={
        InvoiceStatus.PAID: "Nothing owed: paid in full, or partly paid and the rest credited.",
        InvoiceStatus.VOID: "Credited in full with nothing paid.",
    },
)


@strawberry.type
class Invoice(Node):
    row: strawberry.Private[RowOf[models.Invoice]]
    number: str
    issue_date: date
    due_date: date
    total: Decimal
    paid_amount: Decimal
    credited_amount: Decimal = strawberry.field(description="The sum of the invoice's credit notes.")
    balance: Decimal = strawberry.field(description="total - paidAmount - creditedAmount.")
    status: InvoiceStatus
    days_overdue: int

    @strawberry.field
    async def credit_notes(self, info: Info) -> list[CreditNote]:
        rows = await info.context.loaders.finance.credit_notes_by_invoice.load(self.pk)
        return [CreditNote.from_row(row) for row in rows]

    @strawberry.field
    async def customer(self, info: Info) -> CustomerRef:
        return await customer_of(info, self.row.customer_id)

    @strawberry.field
    async def sales_order(self, info: Info) -> SalesOrderRef | None:
        from api.sales.types import SalesOrder

        if self.row.order_id is None:
            return None
        row = await info.context.loaders.sales.order.load(self.row.order_id)
        return None if row is None else SalesOrder.from_row(row)

    @classmethod
    def from_row(cls, row: RowOf[models.Invoice], today: date | None = None) -> Invoice:
        balance = models.invoice_balance(row)
        return cls(
            pk=row.id, row=row, number=row.number, issue_date=row.issue_date, due_date=row.due_date,
            total=row.total, paid_amount=row.paid_amount, credited_amount=row.credited_amount,
            balance=balance,
            status=InvoiceStatus(row.status),
            days_overdue=invoice_days_overdue(row.status, row.due_date, balance, today or date.today()),
        )


@strawberry.type
class Payment(Node):
    row: strawberry.Private[RowOf[models.Payment]]
    amount: Decimal
    received_on: date
    reference: str | None

    @strawberry.field
    async def customer(self, info: Info) -> CustomerRef:
        return await customer_of(info, self.row.customer_id)

    @classmethod
    def from_row(cls, row: RowOf[models.Payment]) -> Payment:
        return cls(pk=row.id, row=row, amount=row.amount, received_on=row.received_on,
                   reference=row.reference)


@strawberry.type(description="A credit against one invoice: lowers its balance and the customer's receivables.")
class CreditNote(Node):
    row: strawberry.Private[RowOf[models.CreditNote]]
    number: str
    amount: Decimal
    reason: str
    created_at: datetime
    created_by: str | None

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice:
        return Invoice.from_row(present(await info.context.loaders.finance.invoice.load(self.row.invoice_id)))

    @strawberry.field
    async def customer(self, info: Info) -> CustomerRef:
        return await customer_of(info, self.row.customer_id)

    @classmethod
    def from_row(cls, row: RowOf[models.CreditNote]) -> CreditNote:
        return cls(pk=row.id, row=row, number=row.number, amount=row.amount, reason=row.reason,
                   created_at=row.created_at, created_by=row.created_by)


@strawberry.type(
    description=(
        "Credit position of a customer, computed from the ledger at read time.\n"
        "exposure = openReceivables + openOrders; available = limit - exposure.\n"
        "A limit of 0 means the customer has no limit (as in Odoo and ERPNext)."
    )
)
class CreditStatus:
    limit: Decimal
    open_receivables: Decimal = strawberry.field(description="Invoiced and not yet paid.")
    open_orders: Decimal = strawberry.field(
        description="Confirmed (or held) orders not yet invoiced, at order value incl. tax."
    )
    exposure: Decimal
    available: Decimal | None = strawberry.field(description="Null when the customer has no limit.")
    overdue_amount: Decimal
    max_days_overdue: int = strawberry.field(
        description="Days past due of the oldest unpaid invoice; 0 when nothing is overdue."
    )

    @classmethod
    def from_position(cls, p: CreditPosition) -> CreditStatus:
        return cls(
            limit=p.limit, open_receivables=p.open_receivables, open_orders=p.open_orders,
            exposure=p.exposure, available=p.available, overdue_amount=p.overdue_amount,
            max_days_overdue=p.max_days_overdue,
        )


async def customer_credit(info: Info, customer_id: int) -> CreditStatus:
    position = await info.context.loaders.finance.credit.load(customer_id)
    if position is None:  # every customer has one; a field of a customer asked for it
        raise LookupError(f"no credit position for customer {customer_id}")
    return CreditStatus.from_position(position)


async def customer_invoices(
    info: Info, customer_id: int, first: int | None, after: str | None,
    status: list[InvoiceStatus] | None,
) -> Connection[Invoice]:
    loaders = info.context.loaders.finance
    today = date.today()
    return await child_page(
        loaders.customer_invoices, loaders.customer_invoice_count, customer_id,
        lambda row: Invoice.from_row(row, today), first=first, after=after,
        values=tuple(sorted(s.value for s in status)) if status else None,
    )


async def customer_credit_notes(
    info: Info, customer_id: int, first: int | None, after: str | None
) -> Connection[CreditNote]:
    loaders = info.context.loaders.finance
    return await child_page(
        loaders.customer_credit_notes, loaders.customer_credit_note_count, customer_id,
        CreditNote.from_row, first=first, after=after,
    )


@strawberry.type
class InvoicePayload:
    invoice: Invoice | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PaymentPayload:
    payment: Payment | None = None
    invoices: list[Invoice] = strawberry.field(
        default_factory=list, description="Invoices the payment was applied to."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreditNotePayload:
    credit_note: CreditNote | None = None
    invoice: Invoice | None = strawberry.field(default=None, description="The invoice, as credited.")
    errors: list[UserError] = strawberry.field(default_factory=list)
