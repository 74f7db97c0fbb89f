"""Work order lifecycle: create, release, issue materials (kitted), report production,
reschedule, cancel, close. (Make-to-order is ``make_to_order``, the kitting reads
``kitting_reads``, the requirement arithmetic ``requirements``.)

Every command locks the work order row first, so two commands on one order queue
up. Stock leaves and arrives through the ledger (``materials.move_stock``): an
issue is all or nothing.

A work order's open quantity is a scheduled receipt that backordered sales lines are
promised from, so every command that moves it (create, reschedule, cancel, report
production) re-promises them (``domain.sales.promise``) in the same transaction.
Lock order: the work order, then the sales orders, then the balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.availability import stock_freed
from domain.inventory.models import Bom, BomLine, Item
from domain.production.materials import move_stock
from domain.production.models import (
    CANCELLABLE_STATUSES,
    OPEN_STATUSES,
    PRODUCING_STATUSES,
    WorkOrder,
    WorkOrderComponent,
    WorkOrderStatus,
)
from domain.production.requirements import backflush, component_requirement
from domain.sales.models import SalesOrder
from domain.sales.promise import lock_orders, repromise
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.numbering import next_number
from domain.shared.numbers import check_decimal, check_text, quantity_text

ZERO = Decimal(0)


@dataclass
class NewWorkOrder:
    item_id: int
    quantity: Decimal
    due_date: date | None
    sales_order_id: int | None = None


@dataclass
class ProductionReport:
    work_order_id: int
    quantity: Decimal
    labor_hours: Decimal | None = None
    backflush: bool = False


async def _locked(session: AsyncSession, work_order_id: int, field: str) -> WorkOrder:
    order = (
        await session.execute(
            select(WorkOrder)
            .where(WorkOrder.id == work_order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if order is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "work order not found", [field])
    return order


async def load_components(session: AsyncSession, work_order_id: int) -> list[WorkOrderComponent]:
    """A work order's component rows (none before release), in BOM order."""
    return list(
        (
            await session.execute(
                select(WorkOrderComponent)
                .where(WorkOrderComponent.work_order_id == work_order_id)
                .order_by(WorkOrderComponent.position)
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )


async def create_work_order(
    session: AsyncSession, data: NewWorkOrder, actor: str | None = None, *, today: date | None = None
) -> WorkOrder:
    """A PLANNED work order; backorders of its item are re-promised (``today``: the
    server's date unless given)."""
    problems = Problems()
    check_decimal(problems, data.quantity, "quantity", places=6, positive=True, label="quantity")
    if data.due_date is None:
        problems.invalid("is required", "dueDate")
    problems.raise_if_any()
    assert data.due_date is not None  # checked above

    item = await session.get(Item, data.item_id)
    if item is None:
        problems.add(ErrorCode.NOT_FOUND, "item not found", "itemId")
    if data.sales_order_id is not None and await session.get(SalesOrder, data.sales_order_id) is None:
        problems.add(ErrorCode.NOT_FOUND, "sales order not found", "salesOrderId")
    problems.raise_if_any()
    assert item is not None
    locked = await lock_orders(session, [item.id])
    order = await insert_work_order(
        session, item.id, item.lead_time_days, data.quantity, data.due_date, data.sales_order_id, actor
    )
    await repromise(
        session, [item.id], today=today or date.today(), cause=f"work order {order.number} created",
        actor=actor, locked=locked,
    )
    return order


async def insert_work_order(
    session: AsyncSession, item_id: int, lead_time_days: int, quantity: Decimal, due_date: date,
    sales_order_id: int | None, actor: str | None,
) -> WorkOrder:
    """A PLANNED work order (start: due date − lead time) and its created event; nothing
    checked, nothing re-promised (the callers do both)."""
    order = WorkOrder(
        number=await next_number(session, "work_order"),
        item_id=item_id,
        quantity=quantity,
        status=WorkOrderStatus.PLANNED,
        start_date=due_date - timedelta(days=lead_time_days),
        due_date=due_date,
        sales_order_id=sales_order_id,
    )
    session.add(order)
    await session.flush()
    await record_event(
        session, "work_order.created", "WorkOrder", order.id,
        {"number": order.number, "itemId": item_id, "quantity": str(order.quantity),
         "dueDate": str(order.due_date), "salesOrderId": order.sales_order_id},
        actor,
    )
    return order


async def release_work_order(
    session: AsyncSession, work_order_id: int, actor: str | None = None
) -> WorkOrder:
    """PLANNED → RELEASED: the item's BOM, scaled to the order, becomes its components."""
    order = await _locked(session, work_order_id, "id")
    if order.status != WorkOrderStatus.PLANNED:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"cannot release a work order in status {order.status}", ["id"]
        )
    bom = await session.get(Bom, order.item_id)
    lines = [] if bom is None else list(
        (
            await session.execute(
                select(BomLine).where(BomLine.bom_item_id == order.item_id).order_by(BomLine.position)
            )
        ).scalars()
    )
    if bom is None or not lines:
        raise DomainError.one(
            ErrorCode.INVALID, "the item has no bill of materials to build it from", ["id"]
        )
    await session.execute(
        insert(WorkOrderComponent),
        [
            {
                "work_order_id": order.id,
                "position": i,
                "item_id": line.component_id,
                "required_quantity": component_requirement(
                    order.quantity, line.quantity, line.scrap_rate, bom.output_quantity
                ),
            }
            for i, line in enumerate(lines)
        ],
    )
    order.status = WorkOrderStatus.RELEASED
    await session.flush()
    await record_event(
        session, "work_order.released", "WorkOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": WorkOrderStatus.PLANNED,
         "components": len(lines)},
        actor,
    )
    return order


async def issue_work_order_materials(
    session: AsyncSession, work_order_id: int, actor: str | None = None
) -> WorkOrder:
    """Kitted issue: every component's remaining quantity, or nothing."""
    order = await _locked(session, work_order_id, "id")
    if order.status not in PRODUCING_STATUSES:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"cannot issue materials in status {order.status}", ["id"]
        )
    components = await load_components(session, order.id)
    remaining = [(c, c.required_quantity - c.issued_quantity) for c in components]
    if all(qty <= 0 for _, qty in remaining):
        raise DomainError.one(ErrorCode.INVALID_STATE, "every component is already issued", ["id"])
    issued = await move_stock(session, order, remaining, "id", actor=actor)
    previous = order.status
    order.status = WorkOrderStatus.IN_PROGRESS
    await session.flush()
    await record_event(
        session, "work_order.materials_issued", "WorkOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": previous,
         "components": issued},
        actor,
    )
    return order


async def report_production(
    session: AsyncSession, report: ProductionReport, actor: str | None = None, *, today: date | None = None
) -> WorkOrder:
    """Add ``report.quantity`` good units to stock; with backflush, issue their components.

    The units arrive now instead of on the due date, so backorders of the item are
    re-promised: what is still free after earlier backorders' claims is promised today.
    """
    problems = Problems()
    check_decimal(problems, report.quantity, "quantity", places=6, positive=True, label="quantity")
    check_decimal(problems, report.labor_hours, "laborHours", places=6, non_negative=True,
                  label="labour hours")
    problems.raise_if_any()

    order = await _locked(session, report.work_order_id, "workOrderId")
    if order.status not in PRODUCING_STATUSES:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"cannot report production in status {order.status}",
            ["workOrderId"],
        )
    open_quantity = order.quantity - order.completed_quantity
    if report.quantity > open_quantity:
        raise DomainError.one(
            ErrorCode.INVALID, f"only {quantity_text(open_quantity)} of the work order is still open", ["quantity"]
        )
    locked = await lock_orders(session, [order.item_id])  # before _move_stock locks balances
    issues: list[tuple[WorkOrderComponent, Decimal]] = []
    if report.backflush:
        components = await load_components(session, order.id)
        issues = backflush(order.quantity, order.completed_quantity, components, report.quantity)
    issued = await move_stock(
        session, order, issues, "backflush", produced=report.quantity, actor=actor
    )
    previous = order.status
    order.completed_quantity += report.quantity
    order.labor_hours += report.labor_hours or ZERO
    order.status = (
        WorkOrderStatus.COMPLETED if order.completed_quantity >= order.quantity else WorkOrderStatus.IN_PROGRESS
    )
    if order.status == WorkOrderStatus.COMPLETED:
        order.completed_on = today or date.today()
    await session.flush()
    await record_event(
        session, "work_order.production_reported", "WorkOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": previous,
         "quantity": str(report.quantity), "completedQuantity": str(order.completed_quantity),
         "laborHours": str(report.labor_hours or ZERO), "backflush": report.backflush,
         "components": issued},
        actor,
    )
    await stock_freed(session, [order.item_id], source=f"production of {order.number}", actor=actor)
    done = (
        "completed" if order.status == WorkOrderStatus.COMPLETED
        else f"reported {quantity_text(report.quantity)} produced"
    )
    await repromise(
        session, [order.item_id], today=today or date.today(), cause=f"work order {order.number} {done}",
        actor=actor, locked=locked,
    )
    return order


async def reschedule_work_order(
    session: AsyncSession,
    work_order_id: int,
    due_date: date,
    start_date: date | None = None,
    *,
    today: date,
    actor: str | None = None,
) -> WorkOrder:
    """Move an open work order's due date, and its start date: to ``start_date``, or when
    None by as many days as the due date moves (an order in progress keeps its start).

    Backorders of the item are re-promised only when the due date moves; the same
    dates again change nothing and record nothing.
    """
    if start_date is not None and due_date < start_date:
        raise DomainError.one(ErrorCode.INVALID, "must not be before the start date", ["dueDate"])
    order = await _locked(session, work_order_id, "id")
    if order.status not in OPEN_STATUSES:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"cannot reschedule a work order in status {order.status}", ["id"]
        )
    start = start_date
    if start is None and order.start_date is not None:
        shift = timedelta(0) if order.status == WorkOrderStatus.IN_PROGRESS else due_date - order.due_date
        start = order.start_date + shift
    if start is not None and due_date < start:
        raise DomainError.one(
            ErrorCode.INVALID, f"must not be before the start date ({start.isoformat()})", ["dueDate"]
        )
    previous_due, previous_start = order.due_date, order.start_date
    if (due_date, start) == (previous_due, previous_start):
        return order
    order.due_date, order.start_date = due_date, start
    await session.flush()
    await record_event(
        session, "work_order.rescheduled", "WorkOrder", order.id,
        {"number": order.number, "dueDate": str(due_date), "previousDueDate": str(previous_due),
         "startDate": _text(start), "previousStartDate": _text(previous_start)},
        actor,
    )
    if due_date != previous_due:
        await repromise(
            session, [order.item_id], today=today, cause=f"work order {order.number} rescheduled", actor=actor
        )
    return order


async def cancel_work_order(
    session: AsyncSession, work_order_id: int, reason: str, *, today: date, actor: str | None = None
) -> WorkOrder:
    """PLANNED or RELEASED, nothing issued or completed → CANCELLED; its receipt is gone,
    so backorders of the item are re-promised."""
    problems = Problems()
    check_text(problems, reason, "reason", required=True, max_length=500)
    problems.raise_if_any()
    order = await _locked(session, work_order_id, "id")
    issued = await session.scalar(
        select(func.coalesce(func.sum(WorkOrderComponent.issued_quantity), ZERO))
        .where(WorkOrderComponent.work_order_id == order.id)
    )
    if order.status not in CANCELLABLE_STATUSES or order.completed_quantity > 0 or (issued or ZERO) > 0:
        raise DomainError.one(
            ErrorCode.INVALID_STATE,
            f"cannot cancel a work order in status {order.status} with anything issued or completed"
            if order.status in CANCELLABLE_STATUSES else f"cannot cancel a work order in status {order.status}",
            ["id"],
        )
    previous = order.status
    order.status = WorkOrderStatus.CANCELLED
    await session.flush()
    await record_event(
        session, "work_order.cancelled", "WorkOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": previous,
         "reason": reason.strip()},
        actor,
    )
    await repromise(
        session, [order.item_id], today=today, cause=f"work order {order.number} cancelled", actor=actor
    )
    return order


async def close_work_order(session: AsyncSession, work_order_id: int, actor: str | None = None) -> WorkOrder:
    """COMPLETED → CLOSED: nothing more will be booked against it."""
    order = await _locked(session, work_order_id, "id")
    if order.status != WorkOrderStatus.COMPLETED:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"cannot close a work order in status {order.status}", ["id"]
        )
    order.status = WorkOrderStatus.CLOSED
    await session.flush()
    await record_event(
        session, "work_order.closed", "WorkOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": WorkOrderStatus.COMPLETED},
        actor,
    )
    return order


def _text(value: date | None) -> str | None:
    return None if value is None else str(value)
