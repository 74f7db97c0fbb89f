"""Items as documents use them: known, and active for anything new.

An inactive item (``Item.active`` false) is kept for history and still planned for
the demand that exists, but no new quote, order or purchase order line may name it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import Item
from domain.shared.errors import ErrorCode, Problems


async def orderable_items(
    session: AsyncSession, item_ids: Sequence[int], field: str = "lines", *,
    positions: Sequence[int] | None = None, inactive_ok: bool = False,
) -> dict[int, Item]:
    """The items of document lines by id; NOT_FOUND or INVALID_STATE at ``lines.i.itemId``.

    ``item_ids`` are the lines' items in line order (one per line, repeats allowed);
    ``positions`` the input positions of those lines when only some lines are checked.
    ``inactive_ok``: the document serves demand that exists (a firmed planned order),
    which an inactive item still has.
    """
    rows = await session.execute(select(Item).where(Item.id.in_(set(item_ids))))
    items = {item.id: item for item in rows.scalars()}
    problems = Problems()
    for i, item_id in zip(positions or range(len(item_ids)), item_ids, strict=True):
        item = items.get(item_id)
        if item is None:
            problems.add(ErrorCode.NOT_FOUND, "item not found", field, str(i), "itemId")
        elif not item.active and not inactive_ok:
            problems.add(ErrorCode.INVALID_STATE, f"item {item.sku} is inactive: it cannot be "
                         "quoted, ordered or purchased", field, str(i), "itemId")
    problems.raise_if_any()
    return items
