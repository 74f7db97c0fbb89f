"""Purchasing use cases: create a purchase order, receive it (partly or wholly).

A receipt adds stock through the ledger (a RECEIPT move referencing the line, at the
line's unit cost) and raises the line's ``received_quantity`` in the same
transaction; the order row is locked first so two receipts of one order queue up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory import ledger
from domain.inventory.availability import stock_freed
from domain.inventory.items import orderable_items
from domain.inventory.services import default_warehouse_id
from domain.purchasing.models import OPEN_STATUSES, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from domain.purchasing.suppliers import usable_supplier
from domain.sales.promise import repromise
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.limits import check_line_count
from domain.shared.numbering import next_number
from domain.shared.numbers import check_decimal, quantity_text

LINE = "PurchaseOrderLine"
ZERO = Decimal(0)


@dataclass
class NewPurchaseLine:
    item_id: int
    quantity: Decimal
    due_date: date
    unit_cost: Decimal | None = None


@dataclass
class NewPurchaseOrder:
    supplier_id: int
    lines: list[NewPurchaseLine]
    subcontract: bool = False


@dataclass
class ReceiptLine:
    item_id: int
    quantity: Decimal


async def create_purchase_order(
    session: AsyncSession, data: NewPurchaseOrder, actor: str | None = None, *, firmed: bool = False,
    today: date | None = None,
) -> PurchaseOrder:
    """A new purchase order. ``firmed``: made from planned orders, which serve demand that
    exists, so an inactive item (still planned) may be on it. With ``today``, the open
    backorders of its items are promised again: new supply may bring their dates forward
    (``domain.sales.promise.repromise``, one event per order that moved)."""
    problems = Problems()
    if not data.lines:
        problems.invalid("at least one line is required", "lines")
    check_line_count(problems, data.lines)
    for i, line in enumerate(data.lines):
        path = ("lines", str(i))
        check_decimal(problems, line.quantity, *path, "quantity", places=6, positive=True,
                      label="quantity")
        check_decimal(problems, line.unit_cost, *path, "unitCost", places=4, non_negative=True,
                      label="unit cost")
    problems.raise_if_any()

    supplier = await usable_supplier(session, data.supplier_id, "supplierId")
    await orderable_items(session, [line.item_id for line in data.lines], inactive_ok=firmed)

    order = PurchaseOrder(
        number=await next_number(session, "purchase_order"),
        supplier_id=supplier.id,
        subcontract=data.subcontract,
        status=PurchaseOrderStatus.OPEN,
    )
    session.add(order)
    await session.flush()
    await session.execute(
        insert(PurchaseOrderLine),
        [
            {
                "order_id": order.id,
                "position": i,
                "item_id": line.item_id,
                "quantity": line.quantity,
                "unit_cost": line.unit_cost,
                "due_date": line.due_date,
            }
            for i, line in enumerate(data.lines)
        ],
    )
    await record_event(
        session, "purchase_order.created", "PurchaseOrder", order.id,
        {"number": order.number, "supplierId": supplier.id, "supplier": supplier.code, "subcontract": order.subcontract,
         "lines": len(data.lines)},
        actor,
    )
    if today is not None:
        await repromise(session, {line.item_id for line in data.lines}, today=today,
                        cause=f"purchase order {order.number} placed", actor=actor)
    return order


def _allocate(
    lines: Sequence[PurchaseOrderLine], receipts: Sequence[ReceiptLine] | None
) -> dict[int, Decimal]:
    """Quantity to receive per order line id; a DomainError names each bad receipt line.

    A receipt of an item on several lines fills them in due-date order.
    """
    open_qty = {line.id: line.quantity - line.received_quantity for line in lines}
    if receipts is None:
        return {line_id: qty for line_id, qty in open_qty.items() if qty > 0}
    problems = Problems()
    if not receipts:
        problems.invalid("at least one line is required", "lines")
    check_line_count(problems, receipts)
    for i, receipt in enumerate(receipts):
        check_decimal(problems, receipt.quantity, "lines", str(i), "quantity", places=6,
                      positive=True, label="quantity")
    problems.raise_if_any()

    by_item: dict[int, list[PurchaseOrderLine]] = {}
    for line in sorted(lines, key=lambda ln: (ln.due_date, ln.position)):
        by_item.setdefault(line.item_id, []).append(line)
    taken: dict[int, Decimal] = {}
    for i, receipt in enumerate(receipts):
        candidates = by_item.get(receipt.item_id)
        if candidates is None:
            problems.add(ErrorCode.NOT_FOUND, "item is not on this purchase order",
                         "lines", str(i), "itemId")
            continue
        remaining = receipt.quantity
        for line in candidates:
            take = min(remaining, open_qty[line.id] - taken.get(line.id, ZERO))
            if take > 0:
                taken[line.id] = taken.get(line.id, ZERO) + take
                remaining -= take
        if remaining > 0:
            problems.invalid(
                f"only {quantity_text(receipt.quantity - remaining)} of this item is still open on the order",
                "lines", str(i), "quantity",
            )
    problems.raise_if_any()
    return taken


async def lock_open_order(session: AsyncSession, order_id: int, doing: str) -> PurchaseOrder:
    """The purchase order locked for update; NOT_FOUND, or INVALID_STATE unless still open.

    Every command that changes an order or its lines takes this lock first.
    """
    order = (
        await session.execute(
            select(PurchaseOrder)
            .where(PurchaseOrder.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if order is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "purchase order not found", ["id"])
    if order.status not in OPEN_STATUSES:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"cannot {doing} a purchase order in status {order.status}", ["id"]
        )
    return order


async def receive_purchase_order(
    session: AsyncSession,
    order_id: int,
    receipts: Sequence[ReceiptLine] | None = None,
    actor: str | None = None,
) -> PurchaseOrder:
    """Receive ``receipts`` (None: everything still open) into the default warehouse."""
    order = await lock_open_order(session, order_id, "receive")
    lines = list(
        (
            await session.execute(
                select(PurchaseOrderLine)
                .where(PurchaseOrderLine.order_id == order_id)
                .order_by(PurchaseOrderLine.position)
            )
        ).scalars()
    )
    quantities = _allocate(lines, receipts)
    warehouse_id = await default_warehouse_id(session)
    if warehouse_id is None:
        raise DomainError.one(ErrorCode.INVALID_STATE, "no warehouse exists", ["id"])

    received: list[dict[str, str | int]] = []
    # balances in ascending item id, like every other multi-item movement
    for line in sorted(lines, key=lambda ln: (ln.item_id, ln.id)):
        qty = quantities.get(line.id, ZERO)
        if qty <= 0:
            continue
        posted = await ledger.post(
            session, item_id=line.item_id, warehouse_id=warehouse_id, kind="RECEIPT",
            on_hand=qty, unit_cost=line.unit_cost, reference=ledger.Reference(LINE, line.id),
            actor=actor,
        )
        if posted is None:  # an increase cannot be refused
            raise RuntimeError(f"receipt refused for item {line.item_id}")
        line.received_quantity += qty  # flushed below; the order lock keeps it current
        received.append({"lineId": line.id, "itemId": line.item_id, "quantity": str(qty)})

    previous = order.status
    complete = all(line.received_quantity >= line.quantity for line in lines)
    order.status = PurchaseOrderStatus.RECEIVED if complete else PurchaseOrderStatus.PARTIALLY_RECEIVED
    await session.flush()
    await stock_freed(session, (int(r["itemId"]) for r in received), source=f"receipt {order.number}",
                      actor=actor)
    await record_event(
        session, "purchase_order.received", "PurchaseOrder", order.id,
        {"number": order.number, "status": order.status, "previousStatus": previous,
         "warehouseId": warehouse_id, "lines": received},
        actor,
    )
    return order
