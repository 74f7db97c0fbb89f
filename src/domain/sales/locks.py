"""The sales order row lock: every command that changes an order takes it first.

``SELECT ... FOR UPDATE`` on the order's row, before the command's first write, and
the order's attributes refreshed from the locked row (``populate_existing``), so a
command decides on what the previous holder committed. ``domain.sales.status``
relies on it: events of one order are relayed in commit order only because every
writer holds this lock. Lock order: order rows (ascending id when several), then the
customer row (confirmation), then item balances (ascending item id).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.sales.models import SalesOrder
from domain.shared.errors import DomainError, ErrorCode

# Built once: it runs in every confirmation (see docs/benchmarks.md).
_LOCK_ORDER = (
    select(SalesOrder)
    .where(SalesOrder.id == bindparam("p_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


async def lock_order(session: AsyncSession, order_id: int, *, field: str = "id") -> SalesOrder:
    """The order, locked until commit and read from the locked row; NOT_FOUND on
    ``field`` (the input naming the order) when there is none."""
    order = (await session.execute(_LOCK_ORDER, {"p_id": order_id})).scalar_one_or_none()
    if order is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "sales order not found", [field])
    return order


def locking(condition: ColumnElement[bool], *, skip_locked: bool = False) -> Select[SalesOrder]:
    """The orders matching ``condition``, locked as ``lock_order`` locks one, in ascending
    id; ``skip_locked`` leaves out those another transaction holds."""
    return (
        select(SalesOrder)
        .where(condition)
        .order_by(SalesOrder.id)
        .with_for_update(of=SalesOrder, skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
