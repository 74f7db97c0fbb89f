"""The roll-up on demand: the BOM trees of a few items, loaded in one statement, rolled up now.

``Item.bomCost`` and ``simulateQuote`` use it; the all-items job (``rollup_run``) applies
the same rule (``domain.costing.rollup``) to the whole catalogue, so both give the same
numbers for the same data. One recursive CTE walks down from the asked items through
the BOMs of made items (a bought item's BOM is read only when it is asked for itself:
below, only its cost now counts) and returns each item reached with its cost inputs
and its lines as arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.ext.asyncio import AsyncSession

from domain.costing.rollup import Breakdown, CostItem, Rollup, breakdown, line_factor, roll_up
from domain.inventory.valuation import unit_cost_now

_TREES = text(
    """
    WITH RECURSIVE walk(id) AS (
        SELECT unnest(CAST(:ids AS bigint[]))
        UNION
        SELECT bl.component_id FROM walk w
        JOIN items i ON i.id = w.id
        JOIN bom_lines bl ON bl.bom_item_id = w.id
        WHERE i.procurement <> 'BUY' OR w.id = ANY(CAST(:ids AS bigint[]))
    )
    SELECT i.id, i.procurement, i.scrap_rate, v.average_cost, i.standard_cost, b.output_quantity,
           array_agg(bl.component_id ORDER BY bl.position, bl.id) FILTER (WHERE bl.id IS NOT NULL),
           array_agg(bl.quantity ORDER BY bl.position, bl.id) FILTER (WHERE bl.id IS NOT NULL),
           array_agg(bl.scrap_rate ORDER BY bl.position, bl.id) FILTER (WHERE bl.id IS NOT NULL)
    FROM walk w
    JOIN items i ON i.id = w.id
    LEFT JOIN item_valuations v ON v.item_id = i.id
    LEFT JOIN boms b ON b.item_id = i.id AND (i.procurement <> 'BUY' OR i.id = ANY(CAST(:ids AS bigint[])))
    LEFT JOIN bom_lines bl ON bl.bom_item_id = b.item_id
    GROUP BY i.id, v.average_cost, b.output_quantity
    """
).bindparams(bindparam("ids", type_=ARRAY(BIGINT)))


async def load_trees(session: AsyncSession, item_ids: Iterable[int]) -> dict[int, CostItem]:
    """Every item the BOM trees of ``item_ids`` reach, as the roll-up sees it (one statement).

    Unknown ids are left out.
    """
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    found: dict[int, CostItem] = {}
    rows = await session.execute(_TREES, {"ids": ids})
    for item_id, procurement, scrap, average, standard, output, components, quantities, scraps in rows:
        found[item_id] = CostItem(
            id=item_id,
            unit_cost_now=unit_cost_now(average, standard),
            procurement=procurement,
            has_bom=output is not None,
            scrap_rate=scrap,
            output_quantity=output if output is not None else Decimal(1),
            components=tuple(components or ()),
            factors=tuple(line_factor(q, s) for q, s in zip(quantities or (), scraps or (), strict=True)),
        )
    return found


async def roll_up_trees(session: AsyncSession, item_ids: Iterable[int]) -> tuple[dict[int, CostItem], Rollup]:
    """The trees of ``item_ids`` and their roll-up from the costs of now."""
    items = await load_trees(session, item_ids)
    return items, roll_up(items)


async def bom_costs(session: AsyncSession, item_ids: Sequence[int]) -> list[Breakdown | None]:
    """``Item.bomCost`` of each item: its roll-up with lines; None without a BOM (or unknown)."""
    items, rollup = await roll_up_trees(session, item_ids)
    return [breakdown(item_id, items, rollup) if item_id in items else None for item_id in item_ids]
