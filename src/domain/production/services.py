"""Work order use cases: create, release, issue materials (kitted), report production,
reschedule, cancel, close.

Every command locks the work order row first, so two commands on one order queue
up. Stock leaves and arrives through the ledger: ISSUE moves reference the
component, the PRODUCTION move the work order. Balances are locked in ascending
item id, like every other multi-item movement, and an issue is all or nothing.

A work order's open quantity is a scheduled receipt that backordered sales lines are
promised from, so every command that moves it (create, reschedule, cancel, report
production) re-promises them (``domain.sales.promise``) in the same transaction.
Lock order: the work order, then the sales orders, then the balances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory import ledger
from domain.inventory.atp import scheduled_receipts
from domain.inventory.models import Bom, BomLine, Item, StockBalance, StockMove
from domain.inventory.services import default_warehouse_id
from domain.production.kitting import Component, Kit, Need, sales_order_kit, work_order_kit
from domain.production.models import OPEN_STATUSES, WorkOrder, WorkOrderComponent
from domain.sales.models import SalesOrder, SalesOrderLine
from domain.sales.promise import lock_orders, repromise
from domain.shared.errors import DomainError, ErrorCode, Problem, Problems
from domain.shared.events import record_event
from domain.shared.numbering import next_number
from domain.shared.numbers import check_decimal, check_text

COMPONENT = "WorkOrderComponent"
ZERO = Decimal(0)
STEP = Decimal("0.000001")
PRODUCING = ("RELEASED", "IN_PROGRESS")
# nothing issued or completed yet (checked too): what may still be cancelled
CANCELLABLE = ("PLANNED", "RELEASED")
# sales order states whose unshipped lines may still need production
ORDER_STATES_TO_MAKE = ("CONFIRMED", "PARTIALLY_SHIPPED")


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


def round_up(value: Decimal) -> Decimal:
    """Up to the quantity scale (6 places): a requirement is never short by rounding."""
    return value.quantize(STEP, rounding=ROUND_CEILING)


def component_requirement(
    order_quantity: Decimal, line_quantity: Decimal, line_scrap: Decimal, output_quantity: Decimal
) -> Decimal:
    return round_up(order_quantity * line_quantity * (1 + line_scrap) / output_quantity)


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


async def _components(session: AsyncSession, work_order_id: int) -> list[WorkOrderComponent]:
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
    order = await _insert_work_order(
        session, item.id, item.lead_time_days, data.quantity, data.due_date, data.sales_order_id, actor
    )
    await repromise(
        session, [item.id], today=today or date.today(), cause=f"work order {order.number} created",
        actor=actor, locked=locked,
    )
    return order


async def _insert_work_order(
    session: AsyncSession, item_id: int, lead_time_days: int, quantity: Decimal, due_date: date,
    sales_order_id: int | None, actor: str | None,
) -> WorkOrder:
    order = WorkOrder(
        number=await next_number(session, "work_order"),
        item_id=item_id,
        quantity=quantity,
        status="PLANNED",
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
    if order.status != "PLANNED":
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
    order.status = "RELEASED"
    await session.flush()
    await record_event(
        session, "work_order.released", "WorkOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": "PLANNED",
         "components": len(lines)},
        actor,
    )
    return order


async def _move_stock(
    session: AsyncSession,
    order: WorkOrder,
    issues: Sequence[tuple[WorkOrderComponent, Decimal]],
    field: str,
    produced: Decimal = ZERO,
    actor: str | None = None,
) -> list[dict[str, str | int]]:
    """Issue ``issues`` (all or nothing) and receive ``produced`` units of the order's item.

    Every balance involved is locked in ascending item id before anything moves; a
    shortage raises INSUFFICIENT_STOCK naming each short component.
    """
    wanted = {component.item_id: (component, qty) for component, qty in issues if qty > 0}
    item_ids = sorted(set(wanted) | ({order.item_id} if produced > 0 else set()))
    balances: dict[int, list[ledger.Balance]] = {}
    for item_id in item_ids:
        balances[item_id] = await ledger.lock_balances(session, item_id)

    short: list[tuple[int, Decimal, Decimal]] = []
    for item_id, (_, qty) in wanted.items():
        available = sum((max(b.available, ZERO) for b in balances[item_id]), ZERO)
        if available < qty:
            short.append((item_id, qty, available))
    if short:
        rows = await session.execute(
            select(Item.id, Item.sku).where(Item.id.in_([item_id for item_id, _, _ in short]))
        )
        skus = {item_id: sku for item_id, sku in rows}
        raise DomainError([
            Problem(
                ErrorCode.INSUFFICIENT_STOCK,
                f"{skus.get(item_id, item_id)}: {qty} needed, {available} available",
                (field,),
            )
            for item_id, qty, available in sorted(short)
        ])

    warehouse_id = await default_warehouse_id(session) if produced > 0 else None
    if produced > 0 and warehouse_id is None:
        raise DomainError.one(ErrorCode.INVALID_STATE, "no warehouse exists", [field])
    issued: list[dict[str, str | int]] = []
    for item_id in item_ids:
        if item_id in wanted:
            component, qty = wanted[item_id]
            remaining = qty
            for balance in balances[item_id]:  # default warehouse first
                take = min(remaining, balance.available)
                if take <= 0:
                    continue
                posted = await ledger.post(
                    session, item_id=item_id, warehouse_id=balance.warehouse_id, kind="ISSUE",
                    on_hand=-take, reference=ledger.Reference(COMPONENT, component.id), actor=actor,
                )
                if posted is None:  # the balance is locked and was checked above
                    raise RuntimeError(f"issue refused for item {item_id}")
                balance.on_hand -= take
                remaining -= take
            component.issued_quantity += qty
            issued.append({"itemId": item_id, "quantity": str(qty)})
        if item_id == order.item_id and produced > 0 and warehouse_id is not None:
            posted = await ledger.post(
                session, item_id=item_id, warehouse_id=warehouse_id, kind="PRODUCTION",
                on_hand=produced, reference=ledger.Reference("WorkOrder", order.id), actor=actor,
            )
            if posted is None:  # an increase cannot be refused
                raise RuntimeError(f"production receipt refused for item {item_id}")
    return issued


async def issue_work_order_materials(
    session: AsyncSession, work_order_id: int, actor: str | None = None
) -> WorkOrder:
    """Kitted issue: every component's remaining quantity, or nothing."""
    order = await _locked(session, work_order_id, "id")
    if order.status not in PRODUCING:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"cannot issue materials in status {order.status}", ["id"]
        )
    components = await _components(session, order.id)
    remaining = [(c, c.required_quantity - c.issued_quantity) for c in components]
    if all(qty <= 0 for _, qty in remaining):
        raise DomainError.one(ErrorCode.INVALID_STATE, "every component is already issued", ["id"])
    issued = await _move_stock(session, order, remaining, "id", actor=actor)
    previous = order.status
    order.status = "IN_PROGRESS"
    await session.flush()
    await record_event(
        session, "work_order.materials_issued", "WorkOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": previous,
         "components": issued},
        actor,
    )
    return order


def _backflush(
    order: WorkOrder, components: Sequence[WorkOrderComponent], quantity: Decimal
) -> list[tuple[WorkOrderComponent, Decimal]]:
    """Per component, what ``quantity`` more units consume (scrap included), capped at
    what is still unissued; the last report takes everything left."""
    last = order.completed_quantity + quantity >= order.quantity
    result = []
    for c in components:
        left = c.required_quantity - c.issued_quantity
        share = left if last else min(left, round_up(c.required_quantity * quantity / order.quantity))
        result.append((c, max(share, ZERO)))
    return result


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
    if order.status not in PRODUCING:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"cannot report production in status {order.status}",
            ["workOrderId"],
        )
    open_quantity = order.quantity - order.completed_quantity
    if report.quantity > open_quantity:
        raise DomainError.one(
            ErrorCode.INVALID, f"only {open_quantity} of the work order is still open", ["quantity"]
        )
    locked = await lock_orders(session, [order.item_id])  # before _move_stock locks balances
    issues: list[tuple[WorkOrderComponent, Decimal]] = []
    if report.backflush:
        issues = _backflush(order, await _components(session, order.id), report.quantity)
    issued = await _move_stock(
        session, order, issues, "backflush", produced=report.quantity, actor=actor
    )
    previous = order.status
    order.completed_quantity += report.quantity
    order.labor_hours += report.labor_hours or ZERO
    order.status = "COMPLETED" if order.completed_quantity >= order.quantity else "IN_PROGRESS"
    await session.flush()
    await record_event(
        session, "work_order.production_reported", "WorkOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": previous,
         "quantity": str(report.quantity), "completedQuantity": str(order.completed_quantity),
         "laborHours": str(report.labor_hours or ZERO), "backflush": report.backflush,
         "components": issued},
        actor,
    )
    done = "completed" if order.status == "COMPLETED" else f"reported {report.quantity} produced"
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
        shift = timedelta(0) if order.status == "IN_PROGRESS" else due_date - order.due_date
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
    if order.status not in CANCELLABLE or order.completed_quantity > 0 or (issued or ZERO) > 0:
        raise DomainError.one(
            ErrorCode.INVALID_STATE,
            f"cannot cancel a work order in status {order.status} with anything issued or completed"
            if order.status in CANCELLABLE else f"cannot cancel a work order in status {order.status}",
            ["id"],
        )
    previous = order.status
    order.status = "CANCELLED"
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
    if order.status != "COMPLETED":
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"cannot close a work order in status {order.status}", ["id"]
        )
    order.status = "CLOSED"
    await session.flush()
    await record_event(
        session, "work_order.closed", "WorkOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": "COMPLETED"},
        actor,
    )
    return order


def _text(value: date | None) -> str | None:
    return None if value is None else str(value)


async def create_work_orders_for_sales_orders(
    session: AsyncSession, order_ids: Sequence[int], *, today: date, actor: str | None = None
) -> list[WorkOrder]:
    """One PLANNED work order per order line of a MAKE item not covered by its reservation.

    A line needs ``quantity - shipped - reserved``; work orders already linked to the
    order for that item (any not cancelled, whole quantity) cover its lines in line
    order first, so a second call creates nothing. The orders are locked (ascending
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
        elif order.status not in ORDER_STATES_TO_MAKE:
            problems.add(
                ErrorCode.INVALID_STATE,
                f"{order.number}: cannot plan production for an order in status {order.status}",
                "orderIds", str(i),
            )
    problems.raise_if_any()

    line = SalesOrderLine
    reserved = (
        select(func.coalesce(func.sum(StockMove.quantity_reserved), ZERO))
        .where(StockMove.reference_type == "SalesOrderLine", StockMove.reference_id == line.id)
        .correlate(line)
        .scalar_subquery()
    )
    lines = (
        await session.execute(
            select(line.order_id, line.item_id, line.promised_date,
                   (line.quantity - line.shipped_quantity - reserved).label("uncovered"),
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
            .where(WorkOrder.sales_order_id.in_(unique), WorkOrder.status != "CANCELLED")
            .group_by(WorkOrder.sales_order_id, WorkOrder.item_id)
        )
    }
    created: list[WorkOrder] = []
    for row in lines:
        key = (row.item_id, row.order_id)
        existing = covered.get(key, ZERO)
        needed = row.uncovered - existing
        covered[key] = max(existing - row.uncovered, ZERO) if row.uncovered > 0 else existing
        if needed <= 0:
            continue
        order = orders[row.order_id]
        due = (row.promised_date or order.requested_date
               or today + timedelta(days=row.lead_time_days))
        created.append(await _insert_work_order(
            session, row.item_id, row.lead_time_days, needed, due, order.id, actor
        ))
    if created:
        numbers = ", ".join(w.number for w in created)
        await repromise(
            session, {w.item_id for w in created}, today=today,
            cause=f"work order{'s' if len(created) > 1 else ''} {numbers} created", actor=actor, locked=locked,
        )
    return created


async def _free_stock(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, Decimal]:
    """Unreserved stock per item, all warehouses."""
    if not item_ids:
        return {}
    rows = await session.execute(
        select(StockBalance.item_id, func.sum(StockBalance.on_hand - StockBalance.reserved))
        .where(StockBalance.item_id.in_(sorted(set(item_ids))))
        .group_by(StockBalance.item_id)
    )
    return {item_id: qty for item_id, qty in rows}


async def sales_order_kitting(session: AsyncSession, order_id: int, *, today: date) -> Kit:
    """Can the order ship now? Per line: what is still to ship vs its reservation plus
    unreserved stock (shared once across lines of one item). Five statements."""
    if await session.get(SalesOrder, order_id) is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "sales order not found", ["salesOrderId"])
    line = SalesOrderLine
    reserved = (
        select(func.coalesce(func.sum(StockMove.quantity_reserved), ZERO))
        .where(StockMove.reference_type == "SalesOrderLine", StockMove.reference_id == line.id)
        .correlate(line)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(line.item_id, line.quantity - line.shipped_quantity, reserved)
            .where(line.order_id == order_id)
            .order_by(line.position, line.id)
        )
    ).all()
    needs = [Need(item_id, required, own) for item_id, required, own in rows]
    ids = [need.item_id for need in needs]
    free = await _free_stock(session, ids)
    return sales_order_kit(needs, free, await scheduled_receipts(session, ids), today)


async def work_order_kitting(session: AsyncSession, work_order_id: int, *, today: date) -> Kit:
    """Can the work order be built now? Components still to issue (released: its
    components; planned: the BOM for the open quantity) vs unreserved stock shared once
    across components of one item. At most six statements."""
    found = (
        await session.execute(
            select(WorkOrder, Item.uom).join(Item, Item.id == WorkOrder.item_id)
            .where(WorkOrder.id == work_order_id)
        )
    ).one_or_none()
    if found is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "work order not found", ["workOrderId"])
    order, uom = found
    is_open = order.status in OPEN_STATUSES
    remaining = order.quantity - order.completed_quantity if is_open else ZERO
    released = await _components(session, order.id)
    # released: what was issued already counts toward the completed units too
    done = order.completed_quantity if released else ZERO
    components = [
        Component(c.item_id, max(c.required_quantity - c.issued_quantity, ZERO) if is_open else ZERO,
                  c.required_quantity, order.quantity, c.issued_quantity)
        for c in released
    ]
    if not released:
        bom = await session.execute(
            select(BomLine.component_id, BomLine.quantity, BomLine.scrap_rate, Bom.output_quantity)
            .join(Bom, Bom.item_id == BomLine.bom_item_id)
            .where(BomLine.bom_item_id == order.item_id)
            .order_by(BomLine.position)
        )
        components = [
            Component(
                item_id,
                component_requirement(remaining, qty, scrap, output) if remaining > 0 else ZERO,
                qty * (1 + scrap), output,
            )
            for item_id, qty, scrap, output in bom
        ]
    ids = [c.item_id for c in components]
    free = await _free_stock(session, ids)
    return work_order_kit(
        components, remaining, done, uom, free, await scheduled_receipts(session, ids), today
    )
