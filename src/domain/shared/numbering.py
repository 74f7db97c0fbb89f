"""Human-readable document numbers (SO-000042) from PostgreSQL sequences.

Sequences never hand out a number twice, even across concurrent transactions; a
rolled-back transaction leaves a gap, which is fine for quotes and orders. (Where
law wants gap-free invoice numbers, a counter row locked per series is needed.)
"""

from __future__ import annotations

from sqlalchemy import Sequence
from sqlalchemy.ext.asyncio import AsyncSession

from domain.shared.db import Base

SERIES = {
    "quote": ("QT-", Sequence("quote_number_seq", metadata=Base.metadata)),
    "sales_order": ("SO-", Sequence("sales_order_number_seq", metadata=Base.metadata)),
    "shipment": ("SH-", Sequence("shipment_number_seq", metadata=Base.metadata)),
    "invoice": ("INV-", Sequence("invoice_number_seq", metadata=Base.metadata)),
    "credit_note": ("CN-", Sequence("credit_note_number_seq", metadata=Base.metadata)),
    "purchase_order": ("PO-", Sequence("purchase_order_number_seq", metadata=Base.metadata)),
    "work_order": ("WO-", Sequence("work_order_number_seq", metadata=Base.metadata)),
}


async def next_number(session: AsyncSession, series: str) -> str:
    prefix, sequence = SERIES[series]
    value = await session.scalar(sequence.next_value())
    return f"{prefix}{value:06d}"
