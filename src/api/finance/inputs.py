from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.relay import decode_id
from domain.finance.services import NewCreditNote, NewPayment


@strawberry.input
class PaymentInput:
    customer_id: strawberry.ID
    amount: Decimal
    received_on: date | None = None
    reference: str | None = None
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="Omitted: applied to the oldest open invoices first."
    )

    def to_domain(self) -> NewPayment:
        return NewPayment(
            customer_id=decode_id(self.customer_id, "Customer", "customerId"),
            amount=self.amount,
            received_on=self.received_on,
            reference=self.reference,
            invoice_id=decode_id(self.invoice_id, "Invoice", "invoiceId")
            if self.invoice_id is not None else None,
        )


@strawberry.input
class CreditNoteInput:
    invoice_id: strawberry.ID
    amount: Decimal = strawberry.field(description="Positive, 2 decimals, at most the invoice's balance.")
    reason: str

    def to_domain(self) -> NewCreditNote:
        return NewCreditNote(
            invoice_id=decode_id(self.invoice_id, "Invoice", "invoiceId"),
            amount=self.amount,
            reason=self.reason,
        )
