"""Stock that became free: the event that lets waiting backorders take it.

A command that adds stock (a receipt, reported production, a positive adjustment) or
gives a reservation back (a cancelled order) calls ``stock_freed`` in its transaction.
The outbox relay turns the event into one ``allocate_stock`` job after the commit
(``domain.sales.backorders``); the command itself takes no order lock for it, so it
keeps the lock order of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from domain.shared.events import record_event

STOCK_FREED = "stock.freed"


async def stock_freed(
    session: AsyncSession, item_ids: Iterable[int], *, source: str, actor: str | None
) -> None:
    """Record that stock of the items became free; ``source`` names why ("receipt PO-000001")."""
    ids = sorted(set(item_ids))
    if ids:
        await record_event(session, STOCK_FREED, "Item", ids[0], {"itemIds": ids, "source": source}, actor)
