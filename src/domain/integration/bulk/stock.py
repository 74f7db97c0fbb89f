"""Stock counts: each row says what is on hand of an item in a warehouse.

The import posts an ADJUSTMENT of the difference through ``adjust_stock`` (so the
ledger, the balance, the valuation and ``stock.adjusted`` stay as the API makes them);
a count equal to the balance posts nothing, so a second import of the same counts
changes nothing. A count below what is reserved there is refused for that row.
Each row runs in its own savepoint: a refused row leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.integration.bulk.rows import Row, RowError
from domain.integration.bulk.upsert import Outcome
from domain.inventory.models import Item, StockBalance, Warehouse
from domain.inventory.services import StockAdjustment, adjust_stock, default_warehouse_id
from domain.shared.errors import DomainError
from domain.shared.numbers import quantity_text

DEFAULT_REASON = "stock count (import)"


async def apply_counts(session: AsyncSession, rows: Sequence[Row], actor: str) -> Outcome:
    """Post the difference of each counted quantity; rows with unknown SKUs or warehouses are refused."""
    skus = sorted({row.values["sku"] for row in rows})
    items = dict((await session.execute(select(Item.sku, Item.id).where(Item.sku.in_(skus)))).tuples().all())
    codes = sorted({code for row in rows if (code := row.values.get("warehouse")) is not None})
    warehouses = dict((await session.execute(
        select(Warehouse.code, Warehouse.id).where(Warehouse.code.in_(codes))
    )).tuples().all()) if codes else {}
    default = await default_warehouse_id(session)
    outcome = Outcome(errors=[])
    assert outcome.errors is not None
    for row in rows:
        error = await _count(session, row, items, warehouses, default, actor)
        if error is None:
            outcome.unchanged += 1
        elif isinstance(error, RowError):
            outcome.errors.append(error)
        else:
            outcome.updated += 1
    return outcome


async def _count(
    session: AsyncSession, row: Row, items: dict[str, int], warehouses: dict[str, int],
    default: int | None, actor: str,
) -> RowError | Decimal | None:
    """The row's error, the posted difference, or None when the count matches the balance."""
    values = row.values
    item_id = items.get(values["sku"])
    if item_id is None:
        return RowError(row.number, "sku", f"item {values['sku']!r} not found")
    code = values.get("warehouse")
    warehouse_id = default if code is None else warehouses.get(code)
    if warehouse_id is None:
        reason = "no warehouse exists" if code is None else f"warehouse {code!r} not found"
        return RowError(row.number, "warehouse", reason)
    counted: Decimal = values["quantity"]
    balance = (await session.execute(
        select(StockBalance.on_hand, StockBalance.reserved)
        .where(StockBalance.item_id == item_id, StockBalance.warehouse_id == warehouse_id)
        .with_for_update()
    )).one_or_none()
    on_hand, reserved = balance if balance is not None else (Decimal(0), Decimal(0))
    if counted == on_hand:
        return None
    if counted < reserved:
        return RowError(row.number, "quantity", f"{quantity_text(reserved)} is reserved here; "
                        "a count cannot be below what is reserved")
    try:
        async with session.begin_nested():
            await adjust_stock(session, StockAdjustment(
                item_id=item_id, quantity=counted - on_hand, warehouse_id=warehouse_id,
                reason=values.get("reason") or DEFAULT_REASON, unit_cost=values.get("unit_cost"),
            ), actor)
    except DomainError as exc:
        return RowError(row.number, "quantity", str(exc))
    return counted - on_hand


async def lock_counts(session: AsyncSession) -> None:
    """Serialise stock imports with each other (two imports of one file would each post)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('erpgraph.bulk.stock'))"))
