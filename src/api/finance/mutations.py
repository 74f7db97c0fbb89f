from __future__ import annotations

import strawberry

from api.finance.inputs import CreditNoteInput, PaymentInput
from api.finance.types import CreditNote, CreditNotePayload, Invoice, InvoicePayload, Payment, PaymentPayload
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

    @strawberry.mutation(
        description=(
            "Credits part or all of an open invoice's balance with a credit note. Credited so that "
            "nothing is owed, the invoice reads VOID if nothing was paid, else PAID."
        )
    )
    @command(Scope.FINANCE_WRITE)
    async def issue_credit_note(self, cmd: Command, input: CreditNoteInput) -> CreditNotePayload:
        note, invoice = await services.issue_credit_note(cmd.session, input.to_domain(), actor=cmd.actor)
        return CreditNotePayload(credit_note=CreditNote.from_row(note), invoice=Invoice.from_row(invoice))
