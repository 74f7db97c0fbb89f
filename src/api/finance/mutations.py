from __future__ import annotations

import strawberry

from api.finance.inputs import PaymentInput
from api.finance.types import Invoice, InvoicePayload, Payment, PaymentPayload
from api.permissions import Command, command
from api.relay import decode_id
from domain.finance import services
from domain.identity.scopes import Scope


@strawberry.type
class FinanceMutation:
    @strawberry.mutation
    @command(Scope.FINANCE_WRITE)
    async def invoice_sales_order(self, cmd: Command, id: strawberry.ID) -> InvoicePayload:
        pk = decode_id(id, "SalesOrder", "id")
        row = await services.invoice_order(cmd.session, pk, actor=cmd.actor)
        return InvoicePayload(invoice=Invoice.from_row(row))

    @strawberry.mutation
    @command(Scope.FINANCE_WRITE)
    async def record_payment(self, cmd: Command, input: PaymentInput) -> PaymentPayload:
        data = input.to_domain()
        payment, invoices = await services.record_payment(cmd.session, data, actor=cmd.actor)
        return PaymentPayload(
            payment=Payment.from_row(payment), invoices=[Invoice.from_row(i) for i in invoices]
        )
