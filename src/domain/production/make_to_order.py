"""Make to order: work orders for what open sales orders still lack of MAKE items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import Item
from domain.inventory.stock import free_stock
from domain.production.models import WorkOrder, WorkOrderStatus
from domain.production.services import insert_work_order
from domain.sales.models import OPEN_ORDER_STATUSES, SalesOrderLine
from domain.sales.promise import lock_orders, repromise
from domain.sales.reservations import UNRESERVED
from domain.shared.errors import ErrorCode, Problems

ZERO = Decimal(0)


async def create_work_orders_for_sales_orders(
    session: AsyncSession, order_ids: Sequence[int], *, today: date, actor: str | None = None
) -> list[WorkOrder]:
    """One PLANNED work order per order line of a MAKE item not covered by its reservation
    nor by free stock.

    A line needs ``quantity - shipped - reserved``; work orders already linked to the
    order for that item (any not cancelled, whole quantity) cover its lines in line
    order first, so a second call creates nothing; then stock free now (on hand −
    reserved, which waiting lines will be allocated) covers what is left, line by line. The orders are locked (ascending
    id), so two concurrent calls for one order queue up instead of both creating;
    with them every order backordering one of their made items, which the new work
    orders may re-promise. Any missing order or one in the wrong state fails the
    whole call.
    """
    if not order_ids:
        return []
    unique = sorted(set(order_ids))
    made = (
        await session.execute(
            select(SalesOrderLine.item_id)
            .join(Item, Item.id == SalesOrderLine.item_id)
            .where(SalesOrderLine.order_id.in_(unique), Item.procurement == "MAKE")
            .distinct()
        )
    ).scalars().all()
    locked = await lock_orders(session, made, also=unique)
    orders = {order_id: locked[order_id] for order_id in unique if order_id in locked}
    problems = Problems()
    for i, order_id in enumerate(order_ids):
        order = orders.get(order_id)
        if order is None:
            problems.add(ErrorCode.NOT_FOUND, "sales order not found", "orderIds", str(i))
        elif order.status not in OPEN_ORDER_STATUSES:
            problems.add(
                ErrorCode.INVALID_STATE,
                f"{order.number}: cannot plan production for an order in status {order.status}",
                "orderIds", str(i),
            )
    problems.raise_if_any()

    line = SalesOrderLine
    lines = (
        await session.execute(
            select(line.order_id, line.item_id, line.promised_date, UNRESERVED.label("uncovered"),
                   Item.lead_time_days)
            .join(Item, Item.id == line.item_id)
            .where(line.order_id.in_(unique), Item.procurement == "MAKE")
            .order_by(line.order_id, line.position, line.id)
        )
    ).all()
    covered: dict[tuple[int, int | None], Decimal] = {
        (item_id, order_id): quantity
        for order_id, item_id, quantity in await session.execute(
            select(WorkOrder.sales_order_id, WorkOrder.item_id, func.sum(WorkOrder.quantity))
            .where(WorkOrder.sales_order_id.in_(unique), WorkOrder.status != WorkOrderStatus.CANCELLED)
            .group_by(WorkOrder.sales_order_id, WorkOrder.item_id)
        )
    }
    free = await free_stock(session, made)
    created: list[WorkOrder] = []
    for row in lines:
        key = (row.item_id, row.order_id)
        existing = covered.get(key, ZERO)
        needed = row.uncovered - existing
        covered[key] = max(existing - row.uncovered, ZERO) if row.uncovered > 0 else existing
        if needed <= 0:
            continue
        from_stock = min(max(free.get(row.item_id, ZERO), ZERO), needed)
        free[row.item_id] = free.get(row.item_id, ZERO) - from_stock
        needed -= from_stock
        if needed <= 0:
            continue
        order = orders[row.order_id]
        due = (row.promised_date or order.requested_date
               or today + timedelta(days=row.lead_time_days))
        created.append(await insert_work_order(
            session, row.item_id, row.lead_time_days, needed, due, order.id, actor
        ))
    if created:
        numbers = ", ".join(w.number for w in created)
        await repromise(
            session, {w.item_id for w in created}, today=today,
            cause=f"work order{'s' if len(created) > 1 else ''} {numbers} created", actor=actor, locked=locked,
        )
    return created
