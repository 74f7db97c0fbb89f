"""Changing and cancelling purchase orders while they are still open.

Only OPEN and PARTIALLY_RECEIVED orders change. What was received stays: a line with
receipts keeps its item and unit cost (its receipts were valued at it), is not
removed, and is not reduced below its received quantity; the supplier changes only
while nothing was received. A line a firmed planned order points at is not removed
(the planned order keeps its document, ``domain.planning.models``).

Cancelling ends what was not received: the order is CANCELLED, or RECEIVED when part
of it was received (the lines keep the ordered quantity; ``receivedQuantity`` says
what came, and the cancelled event lists what was still open).

An open line is a scheduled receipt for ATP, so the backorders of every item whose
receipts moved are re-promised (``domain.sales.promise.repromise``), each order whose
promised date moves getting one ``order.status_changed`` event naming the order.
The purchase order is locked first; re-promising then locks the sales orders and
the balances, as cancelling a work order does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.items import orderable_items
from domain.planning.models import PlannedOrder
from domain.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from domain.purchasing.services import lock_open_order
from domain.purchasing.suppliers import usable_supplier
from domain.sales.promise import repromise
from domain.shared.errors import DomainError, ErrorCode, Problem, Problems
from domain.shared.events import record_event
from domain.shared.limits import check_line_count
from domain.shared.numbers import check_decimal, check_text, quantity_text

ZERO = Decimal(0)


@dataclass
class LineChange:
    """One line of the order as it should be: ``id`` an existing line (None: a new one).

    ``given`` names the fields the client sent (``item_id``, ``quantity``,
    ``unit_cost``, ``due_date``); the others keep the existing line's values.
    """

    id: int | None = None
    item_id: int | None = None
    quantity: Decimal | None = None
    unit_cost: Decimal | None = None
    due_date: date | None = None
    given: frozenset[str] = field(default_factory=frozenset)


async def _lines(session: AsyncSession, order_id: int) -> list[PurchaseOrderLine]:
    rows = await session.execute(
        select(PurchaseOrderLine)
        .where(PurchaseOrderLine.order_id == order_id)
        .order_by(PurchaseOrderLine.position)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


def _status(lines: Sequence[PurchaseOrderLine]) -> PurchaseOrderStatus:
    if all(line.received_quantity >= line.quantity for line in lines):
        return PurchaseOrderStatus.RECEIVED
    if any(line.received_quantity > 0 for line in lines):
        return PurchaseOrderStatus.PARTIALLY_RECEIVED
    return PurchaseOrderStatus.OPEN


def _check_values(problems: Problems, changes: Sequence[LineChange]) -> None:
    if not changes:
        problems.invalid("at least one line is required", "lines")
    check_line_count(problems, changes)
    for i, change in enumerate(changes):
        path = ("lines", str(i))
        if change.id is None:
            for name, key in (("itemId", "item_id"), ("quantity", "quantity"), ("dueDate", "due_date")):
                if key not in change.given or getattr(change, key) is None:
                    problems.invalid("is required for a new line", *path, name)
        for name, key in (("itemId", "item_id"), ("quantity", "quantity"), ("dueDate", "due_date")):
            if key in change.given and getattr(change, key) is None and change.id is not None:
                problems.invalid("must not be null", *path, name)
        check_decimal(problems, change.quantity, *path, "quantity", places=6, positive=True, label="quantity")
        check_decimal(problems, change.unit_cost, *path, "unitCost", places=4, non_negative=True,
                      label="unit cost")


async def _check_lines(
    session: AsyncSession, existing: Sequence[PurchaseOrderLine], changes: Sequence[LineChange]
) -> list[Problem]:
    """What is wrong with replacing ``existing`` by ``changes`` (values already checked)."""
    problems = Problems()
    by_id = {line.id: line for line in existing}
    first_at: dict[int, int] = {}
    items_to_check: list[tuple[int, int]] = []  # (index, item id) of new lines and new items
    for i, change in enumerate(changes):
        path = ("lines", str(i))
        if change.id is None:
            if change.item_id is not None:
                items_to_check.append((i, change.item_id))
            continue
        line = by_id.get(change.id)
        if line is None:
            problems.add(ErrorCode.NOT_FOUND, "line not found on this purchase order", *path, "id")
            continue
        if change.id in first_at:
            problems.invalid(f"repeats lines[{first_at[change.id]}]", *path, "id")
            continue
        first_at[change.id] = i
        received = line.received_quantity
        if change.item_id is not None and change.item_id != line.item_id:
            if received > 0:
                problems.add(ErrorCode.INVALID_STATE, "a line with receipts keeps its item", *path, "itemId")
            else:
                items_to_check.append((i, change.item_id))
        if "unit_cost" in change.given and change.unit_cost != line.unit_cost and received > 0:
            problems.add(ErrorCode.INVALID_STATE, "a line with receipts keeps its unit cost (they were "
                         "valued at it)", *path, "unitCost")
        if change.quantity is not None and change.quantity < received:
            problems.add(ErrorCode.INVALID_STATE, f"{quantity_text(received)} of this line were received: "
                         "it cannot be reduced below that", *path)

    removed = [line for line in existing if line.id not in first_at]
    for line in removed:
        if line.received_quantity > 0:
            problems.add(ErrorCode.INVALID_STATE, f"line {line.position + 1} has receipts: it cannot be "
                         "removed", "lines")
    if removed:
        firmed = (await session.execute(
            select(PlannedOrder.purchase_order_line_id)
            .where(PlannedOrder.purchase_order_line_id.in_([line.id for line in removed]))
        )).scalars().all()
        positions = sorted(by_id[line_id].position + 1 for line_id in set(firmed) if line_id is not None)
        for position in positions:
            problems.add(ErrorCode.INVALID_STATE, f"line {position} was firmed from a planned order: it "
                         "cannot be removed (reduce it, or cancel the purchase order)", "lines")

    if items_to_check:
        try:
            await orderable_items(session, [item_id for _, item_id in items_to_check],
                                  positions=[position for position, _ in items_to_check])
        except DomainError as error:
            problems.extend(error.problems)
    return problems.items


async def update_purchase_order(
    session: AsyncSession,
    order_id: int,
    *,
    supplier_id: int | None = None,
    lines: Sequence[LineChange] | None = None,
    today: date,
    actor: str | None = None,
) -> PurchaseOrder:
    """Change the supplier (None: keep it) and replace the lines (None: keep them).

    ``lines`` is the order's new list: existing lines by id (changed where given),
    new lines without one; an existing line left out is removed. Nothing changed
    records nothing.
    """
    problems = Problems()
    if lines is not None:
        _check_values(problems, lines)
    problems.raise_if_any()

    order = await lock_open_order(session, order_id, "change")
    existing = await _lines(session, order.id)
    if supplier_id is not None and supplier_id != order.supplier_id and any(
        line.received_quantity > 0 for line in existing
    ):
        raise DomainError.one(ErrorCode.INVALID_STATE, "part of the order was received: the supplier "
                              "can no longer change", ["supplierId"])
    # an inactive supplier takes no changed order either (cancelling stays possible)
    await usable_supplier(session, order.supplier_id if supplier_id is None else supplier_id, "supplierId")
    if lines is not None:
        problems.items.extend(await _check_lines(session, existing, lines))
    problems.raise_if_any()

    moved_items: set[int] = set()
    changed: dict[str, list[int]] = {"added": [], "changed": [], "removed": []}
    previous_supplier = order.supplier_id
    if supplier_id is not None and supplier_id != order.supplier_id:
        order.supplier_id = supplier_id
    if lines is not None:
        by_id = {line.id: line for line in existing}
        kept = {change.id for change in lines if change.id is not None}
        removed = [line for line in existing if line.id not in kept]
        if removed:
            await session.execute(
                delete(PurchaseOrderLine).where(PurchaseOrderLine.id.in_([line.id for line in removed]))
            )
            moved_items.update(line.item_id for line in removed)
            changed["removed"] = [line.id for line in removed]
        new_rows = []
        for position, change in enumerate(lines):
            if change.id is None:
                assert change.item_id is not None and change.quantity is not None and change.due_date is not None
                new_rows.append({"order_id": order.id, "position": position, "item_id": change.item_id,
                                 "quantity": change.quantity, "unit_cost": change.unit_cost,
                                 "due_date": change.due_date})
                moved_items.add(change.item_id)
                continue
            line = by_id[change.id]
            before = (line.item_id, line.quantity, line.unit_cost, line.due_date, line.position)
            if change.item_id is not None:
                line.item_id = change.item_id
            if change.quantity is not None:
                line.quantity = change.quantity
            if "unit_cost" in change.given:
                line.unit_cost = change.unit_cost
            if change.due_date is not None:
                line.due_date = change.due_date
            line.position = position
            if (line.item_id, line.quantity, line.unit_cost, line.due_date, line.position) != before:
                changed["changed"].append(line.id)
                if (line.item_id, line.quantity, line.due_date) != (before[0], before[1], before[3]):
                    moved_items.update({before[0], line.item_id})
        if new_rows:
            ids = (await session.execute(insert(PurchaseOrderLine).returning(PurchaseOrderLine.id), new_rows))
            changed["added"] = list(ids.scalars())
    if order.supplier_id == previous_supplier and not any(changed.values()):
        return order

    await session.flush()
    previous_status = order.status
    order.status = _status(await _lines(session, order.id))
    await session.flush()
    await record_event(
        session, "purchase_order.updated", "PurchaseOrder", order.id,
        {"number": order.number, "supplierId": order.supplier_id, "previousSupplierId": previous_supplier,
         "status": order.status, "previousStatus": previous_status,
         "addedLineIds": changed["added"], "changedLineIds": changed["changed"],
         "removedLineIds": changed["removed"]},
        actor,
    )
    await repromise(session, moved_items, today=today, cause=f"purchase order {order.number} changed",
                    actor=actor)
    return order


async def cancel_purchase_order(
    session: AsyncSession, order_id: int, reason: str, *, today: date, actor: str | None = None
) -> PurchaseOrder:
    """Cancel what was not received (each line's ``cancelled_quantity``): CANCELLED, or
    RECEIVED when part of it came."""
    problems = Problems()
    check_text(problems, reason, "reason", required=True, max_length=500)
    problems.raise_if_any()
    order = await lock_open_order(session, order_id, "cancel")
    lines = await _lines(session, order.id)
    open_lines = [line for line in lines if line.quantity > line.received_quantity]
    previous = order.status
    received = any(line.received_quantity > 0 for line in lines)
    order.status = PurchaseOrderStatus.RECEIVED if received else PurchaseOrderStatus.CANCELLED
    for line in open_lines:
        line.cancelled_quantity = line.quantity - line.received_quantity
    await session.flush()
    await record_event(
        session, "purchase_order.cancelled", "PurchaseOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": previous, "reason": reason.strip(),
         "cancelled": [{"lineId": line.id, "itemId": line.item_id,
                        "quantity": str(line.quantity - line.received_quantity)} for line in open_lines]},
        actor,
    )
    await repromise(session, {line.item_id for line in open_lines}, today=today,
                    cause=f"purchase order {order.number} cancelled", actor=actor)
    return order
