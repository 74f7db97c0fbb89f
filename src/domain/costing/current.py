"""The unit cost of an item now: its moving average, else its standard cost, else 0.

The one home of the rule (the roll-up, quote simulation and actual costing use it):
the average (``item_valuations.average_cost``, see ``domain.inventory.valuation``) is
what stock of the item is worth; an item that never had stock with a cost has none,
and its standard cost stands in; an item with neither costs nothing yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import Item, ItemValuation

ZERO = Decimal(0)


def unit_cost_now(average_cost: Decimal | None, standard_cost: Decimal | None) -> Decimal:
    """The rule: ``average_cost``, else ``standard_cost``, else 0."""
    if average_cost is not None:
        return average_cost
    if standard_cost is not None:
        return standard_cost
    return ZERO


async def current_unit_costs(session: AsyncSession, item_ids: Iterable[int]) -> dict[int, Decimal]:
    """The unit cost now of each item that exists (one statement); unknown ids are left out."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Item.id, ItemValuation.average_cost, Item.standard_cost)
        .outerjoin(ItemValuation, ItemValuation.item_id == Item.id)
        .where(Item.id.in_(ids))
    )
    return {item_id: unit_cost_now(average, standard) for item_id, average, standard in rows}
