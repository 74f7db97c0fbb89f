"""The stock ledger: every movement is an appended row plus its balance change.

`post` is the only code that writes `stock_moves` or changes `stock_balances`, so
the ledger and the balances cannot drift apart. A movement that would leave on-hand
below reserved, or either below zero, is refused (the conditional UPDATE finds no
row) and the CHECK constraints on `stock_balances` back that up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import StockBalance, StockMove, Warehouse

ZERO = Decimal(0)


@dataclass(frozen=True)
class Reference:
    """The document a movement belongs to, e.g. ("SalesOrderLine", 42)."""

    type: str
    id: int


async def post(
    session: AsyncSession,
    *,
    item_id: int,
    warehouse_id: int,
    kind: str,
    on_hand: Decimal = ZERO,
    reserved: Decimal = ZERO,
    reason: str | None = None,
    reference: Reference | None = None,
    unit_cost: Decimal | None = None,
    actor: str | None = None,
) -> StockBalance | None:
    """Apply one movement; None (and nothing written) when the balance would go invalid."""
    key = {"item_id": item_id, "warehouse_id": warehouse_id}
    if on_hand > 0 and reserved == 0:
        stmt = (
            pg_insert(StockBalance)
            .values(**key, on_hand=on_hand)
            .on_conflict_do_update(
                index_elements=[StockBalance.item_id, StockBalance.warehouse_id],
                set_={"on_hand": StockBalance.on_hand + on_hand},
            )
        )
    else:
        stmt = (
            update(StockBalance)  # type: ignore[assignment]
            .where(
                StockBalance.item_id == item_id,
                StockBalance.warehouse_id == warehouse_id,
                StockBalance.on_hand + on_hand >= StockBalance.reserved + reserved,
                StockBalance.reserved + reserved >= 0,
            )
            .values(on_hand=StockBalance.on_hand + on_hand, reserved=StockBalance.reserved + reserved)
        )
    balance = (
        await session.execute(
            stmt.returning(StockBalance).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if balance is None:
        return None
    await session.execute(
        insert(StockMove).values(
            **key,
            kind=kind,
            quantity_on_hand=on_hand,
            quantity_reserved=reserved,
            unit_cost=unit_cost,
            reason=reason,
            reference_type=reference.type if reference else None,
            reference_id=reference.id if reference else None,
            actor=actor,
        )
    )
    return balance


async def lock_balances(session: AsyncSession, item_id: int) -> list[StockBalance]:
    """The item's balances, default warehouse first, locked until commit.

    Taking these row locks before deciding how much to reserve is what makes
    concurrent reservations of one item queue up instead of overbooking.
    """
    stmt = (
        select(StockBalance)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(StockBalance.item_id == item_id)
        .order_by(Warehouse.is_default.desc(), Warehouse.id)
        .with_for_update(of=StockBalance)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())
