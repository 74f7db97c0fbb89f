from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy import Select, select

from api.context import Info
from api.finance.types import Invoice, InvoiceStatus, Payment, ReadsReceivables
from api.permissions import requires
from api.relay import Connection, existing_id, paginate
from domain.finance.models import UNPAID_INVOICE_STATUSES
from domain.finance.models import Invoice as InvoiceRow
from domain.finance.models import Payment as PaymentRow
from domain.identity.scopes import Scope


def invoices_statement(status: list[InvoiceStatus] | None, overdue_only: bool, today: date) -> Select[Any]:
    stmt = select(InvoiceRow.__table__)
    if status:
        stmt = stmt.where(InvoiceRow.status.in_([s.value for s in status]))
    if overdue_only:
        stmt = stmt.where(
            InvoiceRow.status.in_(UNPAID_INVOICE_STATUSES),
            InvoiceRow.due_date < today,
            InvoiceRow.balance_sql() > 0,
        )
    return stmt


@strawberry.type
class FinanceQuery:
    @strawberry.field(permission_classes=[ReadsReceivables])
    async def invoices(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: list[InvoiceStatus] | None = None, overdue_only: bool | None = None,
    ) -> Connection[Invoice]:
        today = date.today()
        stmt = invoices_statement(status, bool(overdue_only), today)
        return await paginate(
            info, stmt, InvoiceRow.id, lambda row: Invoice.from_row(row, today), first=first, after=after
        )

    @strawberry.field(
        permission_classes=[requires(Scope.FINANCE_READ)],
        description="Payments received, in the order they were recorded; customerId narrows to one customer.",
    )
    async def payments(
        self, info: Info, first: int | None = None, after: str | None = None,
        customer_id: strawberry.ID | None = None,
    ) -> Connection[Payment]:
        stmt = select(PaymentRow.__table__)
        if customer_id is not None:
            pk = await existing_id(customer_id, "Customer", "customerId", info.context.loaders.crm.customer)
            stmt = stmt.where(PaymentRow.customer_id == pk)
        return await paginate(info, stmt, PaymentRow.id, Payment.from_row, first=first, after=after)
