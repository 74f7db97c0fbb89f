"""Reads of stock levels across warehouses."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import StockBalance


async def free_stock(session: AsyncSession, item_ids: Iterable[int]) -> dict[int, Decimal]:
    """Unreserved stock (on hand − reserved) per item, all warehouses, in one statement;
    an item without balances is left out. Read as the session sees it, so a caller
    holding the balance locks gets what is left after its own reservations."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(StockBalance.item_id, func.sum(StockBalance.on_hand - StockBalance.reserved))
        .where(StockBalance.item_id.in_(ids))
        .group_by(StockBalance.item_id)
    )
    return {item_id: quantity for item_id, quantity in rows}
