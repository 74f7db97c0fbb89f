from __future__ import annotations

import strawberry

from api.context import Info
from api.finance.inputs import PaymentInput
from api.finance.types import Invoice, InvoicePayload, Payment, PaymentPayload
from api.permissions import command
from api.relay import decode_id
from domain.finance import services
from domain.identity.scopes import Scope


@strawberry.type
class FinanceMutation:
    @strawberry.mutation
    @command(Scope.FINANCE_WRITE)
    async def invoice_sales_order(self, info: Info, id: strawberry.ID) -> InvoicePayload:
        pk = decode_id(id, "SalesOrder", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await services.invoice_order(session, pk, actor=info.context.viewer.name)
        return InvoicePayload(invoice=Invoice.from_row(row))

    @strawberry.mutation
    @command(Scope.FINANCE_WRITE)
    async def record_payment(self, info: Info, input: PaymentInput) -> PaymentPayload:
        data = input.to_domain()
        async with info.context.sessionmaker.begin() as session:
            payment, invoices = await services.record_payment(
                session, data, actor=info.context.viewer.name
            )
        return PaymentPayload(
            payment=Payment.from_row(payment), invoices=[Invoice.from_row(i) for i in invoices]
        )
