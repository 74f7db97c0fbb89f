"""The stock ledger: every movement is an appended row plus its balance change.

`post` is the only code that writes `stock_moves` or changes `stock_balances`, so
the ledger and the balances cannot drift apart. A movement that would leave on-hand
below reserved, or either below zero, is refused (the conditional UPDATE finds no
row) and the CHECK constraints on `stock_balances` back that up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import StockBalance, StockMove, Warehouse

ZERO = Decimal(0)


@dataclass(frozen=True)
class Reference:
    """The document a movement belongs to, e.g. ("SalesOrderLine", 42)."""

    type: str
    id: int


# Statements built once: they run several times in every confirmation and shipment,
# and SQLAlchemy memoises a statement object's cache key.
_ADD = (
    pg_insert(StockBalance)
    .values(item_id=bindparam("p_item_id"), warehouse_id=bindparam("p_warehouse_id"), on_hand=bindparam("p_on_hand"))
    .on_conflict_do_update(
        index_elements=[StockBalance.item_id, StockBalance.warehouse_id],
        set_={"on_hand": StockBalance.on_hand + bindparam("p_on_hand")},
    )
    .returning(StockBalance)
    .execution_options(populate_existing=True)
)
_MOVE = (
    update(StockBalance)
    .where(
        StockBalance.item_id == bindparam("p_item_id"),
        StockBalance.warehouse_id == bindparam("p_warehouse_id"),
        StockBalance.on_hand + bindparam("p_on_hand") >= StockBalance.reserved + bindparam("p_reserved"),
        StockBalance.reserved + bindparam("p_reserved") >= 0,
    )
    .values(
        on_hand=StockBalance.on_hand + bindparam("p_on_hand"),
        reserved=StockBalance.reserved + bindparam("p_reserved"),
    )
    .returning(StockBalance)
    .execution_options(populate_existing=True)
)
_APPEND = insert(cast(Table, StockMove.__table__)).values(
    item_id=bindparam("p_item_id"),
    warehouse_id=bindparam("p_warehouse_id"),
    kind=bindparam("p_kind"),
    quantity_on_hand=bindparam("p_on_hand"),
    quantity_reserved=bindparam("p_reserved"),
    unit_cost=bindparam("p_unit_cost"),
    reason=bindparam("p_reason"),
    reference_type=bindparam("p_reference_type"),
    reference_id=bindparam("p_reference_id"),
    actor=bindparam("p_actor"),
)


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
    params = {"p_item_id": item_id, "p_warehouse_id": warehouse_id, "p_on_hand": on_hand, "p_reserved": reserved}
    statement = _ADD if on_hand > 0 and reserved == 0 else _MOVE
    balance = (await session.execute(statement, params)).scalar_one_or_none()
    if balance is None:
        return None
    await session.execute(
        _APPEND,
        params | {
            "p_kind": kind,
            "p_unit_cost": unit_cost,
            "p_reason": reason,
            "p_reference_type": reference.type if reference else None,
            "p_reference_id": reference.id if reference else None,
            "p_actor": actor,
        },
    )
    return balance


_LOCK = (
    select(StockBalance)
    .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
    .where(StockBalance.item_id == bindparam("p_item_id"))
    .order_by(Warehouse.is_default.desc(), Warehouse.id)
    .with_for_update(of=StockBalance)
    .execution_options(populate_existing=True)
)


async def lock_balances(session: AsyncSession, item_id: int) -> list[StockBalance]:
    """The item's balances, default warehouse first, locked until commit.

    Taking these row locks before deciding how much to reserve is what makes
    concurrent reservations of one item queue up instead of overbooking.
    """
    return list((await session.execute(_LOCK, {"p_item_id": item_id})).scalars())
