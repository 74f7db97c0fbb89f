"""DataLoaders of receivables: invoices, payments, credit notes, credit positions, pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from strawberry.dataloader import DataLoader

from api.dataloaders import counts_by, many_by, one_by, pages_by
from domain.finance.credit import CreditPosition
from domain.finance.exposure import credit_positions
from domain.finance.models import CreditNote, Invoice, Payment
from domain.shared.db import SessionMaker


class FinanceLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.invoice = one_by(sm, Invoice, Invoice.id)
        self.payment = one_by(sm, Payment, Payment.id)
        self.invoices_by_order = many_by(sm, Invoice, Invoice.order_id, Invoice.id)
        self.credit = self._credit(sm)
        self.customer_invoices = pages_by(sm, Invoice, Invoice.customer_id, Invoice.status)
        self.customer_invoice_count = counts_by(sm, Invoice.customer_id, Invoice.status)
        self.credit_note = one_by(sm, CreditNote, CreditNote.id)
        self.credit_notes_by_invoice = many_by(sm, CreditNote, CreditNote.invoice_id, CreditNote.id)
        self.customer_credit_notes = pages_by(sm, CreditNote, CreditNote.customer_id)
        self.customer_credit_note_count = counts_by(sm, CreditNote.customer_id)

    @staticmethod
    def _credit(sm: SessionMaker) -> DataLoader[int, CreditPosition | None]:
        async def load(keys: Sequence[int]) -> list[CreditPosition | None]:
            async with sm() as session:
                positions = await credit_positions(session, keys, date.today())
            return [positions.get(key) for key in keys]

        return DataLoader(load_fn=load)
