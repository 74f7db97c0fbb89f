"""Order status changes: the one place that moves an order's status.

Every change appends an ``order.status_changed`` row to ``domain_events`` in the same
transaction; ``SalesOrder.statusHistory`` and the ``orderStatusChanged``
subscription both read those rows, so history and stream can never disagree.
Other changes a subscriber must hear about (a moved promised date) are events of the
same type whose status equals their previousStatus; their reason says what changed.
Callers must hold the order's row lock, taken before their first write with
``domain.sales.locks.lock_order`` (or ``locks.locking`` for several orders), so
events of one order are relayed in commit order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.sales.models import OrderStatus, SalesOrder
from domain.shared.events import record_event

STATUS_CHANGED = "order.status_changed"


async def change_status(
    session: AsyncSession,
    order: SalesOrder,
    status: OrderStatus,
    *,
    reason: str | None = None,
    actor: str | None = None,
) -> None:
    previous = order.status
    order.status = status
    await session.flush()
    await _record(session, order, previous, reason, actor)


async def record_initial(
    session: AsyncSession, order: SalesOrder, *, reason: str | None = None, actor: str | None = None
) -> None:
    """The first event of a new order: its initial status, previousStatus null."""
    await session.flush()
    await _record(session, order, None, reason, actor)


async def record_update(
    session: AsyncSession,
    order: SalesOrder,
    reason: str,
    *,
    details: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """An event of an order whose status stays as it is (status == previousStatus):
    ``reason`` says what changed; ``details`` are extra payload fields for machines."""
    await session.flush()
    await _record(session, order, order.status, reason, actor, details)


async def _record(
    session: AsyncSession,
    order: SalesOrder,
    previous: str | None,
    reason: str | None,
    actor: str | None,
    details: Mapping[str, Any] | None = None,
) -> None:
    await record_event(
        session,
        STATUS_CHANGED,
        "SalesOrder",
        order.id,
        {
            **(details or {}),
            "status": order.status,
            "previousStatus": previous,
            "reason": reason,
            "customerId": order.customer_id,
        },
        actor,
    )
