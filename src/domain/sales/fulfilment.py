"""Shipping confirmed orders from what is reserved for them.

A shipment takes stock out of on-hand and out of the line's reservation in one
ledger movement (kind SHIP), so the two fall together. What is reserved for a line
is the sum of its ledger moves per warehouse (``reservations.held_by_warehouse``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory import ledger
from domain.inventory.allocation import Stock, take
from domain.sales.locks import lock_order
from domain.sales.models import OPEN_ORDER_STATUSES, OrderStatus, SalesOrder, SalesOrderLine, Shipment, ShipmentLine
from domain.sales.reservations import held_by_warehouse, line_reference
from domain.sales.status import change_status
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.limits import check_line_count
from domain.shared.numbering import next_number
from domain.shared.numbers import check_decimal, check_text, quantity_text


@dataclass(frozen=True)
class ShipLine:
    line_id: int
    quantity: Decimal


@dataclass(frozen=True)
class ShipmentRequest:
    order_id: int
    lines: Sequence[ShipLine] | None = None  # None: everything reserved
    carrier: str | None = None
    tracking_number: str | None = None


def _check(request: ShipmentRequest) -> None:
    problems = Problems()
    check_text(problems, request.carrier, "carrier", max_length=80)
    check_text(problems, request.tracking_number, "trackingNumber", max_length=80)
    if request.lines is not None:
        if not request.lines:
            problems.invalid("at least one line is needed (omit lines to ship everything reserved)",
                             "lines")
        check_line_count(problems, request.lines)
        seen: dict[int, int] = {}
        for i, line in enumerate(request.lines):
            path = ("lines", str(i))
            check_decimal(problems, line.quantity, *path, "quantity", places=6, positive=True,
                          label="quantity")
            if line.line_id in seen:
                problems.invalid(f"line repeats lines[{seen[line.line_id]}]", *path, "lineId")
            seen.setdefault(line.line_id, i)
    problems.raise_if_any()


async def ship_order(
    session: AsyncSession, request: ShipmentRequest, actor: str | None = None
) -> tuple[SalesOrder, Shipment]:
    """Ship reserved stock of a confirmed order; the order becomes (partially) shipped."""
    _check(request)
    order = await lock_order(session, request.order_id, field="orderId")
    if order.status not in OPEN_ORDER_STATUSES:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"an order in status {order.status} cannot be shipped",
            ["orderId"],
        )
    lines = {
        line.id: line
        for line in (
            await session.execute(
                select(SalesOrderLine).where(SalesOrderLine.order_id == order.id)
                .order_by(SalesOrderLine.position, SalesOrderLine.id)
                .execution_options(populate_existing=True)
            )
        ).scalars()
    }
    # per line: what each warehouse holds for it
    reserved: dict[int, list[Stock]] = defaultdict(list)
    for held in await held_by_warehouse(session, list(lines)):
        reserved[held.line_id].append(Stock(held.warehouse_id, held.quantity, held.is_default))

    wanted: list[tuple[SalesOrderLine, Decimal]] = []
    if request.lines is None:
        for line in lines.values():
            total = sum((s.quantity for s in reserved.get(line.id, [])), Decimal(0))
            if total > 0:
                wanted.append((line, total))
        if not wanted:
            raise DomainError.one(ErrorCode.INVALID, "nothing is reserved for this order to ship")
    else:
        problems = Problems()
        for i, requested in enumerate(request.lines):
            path = ("lines", str(i))
            found = lines.get(requested.line_id)
            if found is None:
                problems.add(ErrorCode.NOT_FOUND, "line not found on this order", *path, "lineId")
                continue
            available = sum((s.quantity for s in reserved.get(found.id, [])), Decimal(0))
            if requested.quantity > available:
                problems.add(
                    ErrorCode.INSUFFICIENT_STOCK,
                    f"only {quantity_text(available)} reserved for this line", *path, "quantity",
                )
                continue
            wanted.append((found, requested.quantity))
        problems.raise_if_any()

    # take each line's quantity from its reservations, default warehouse first
    posts = [
        (line.item_id, warehouse_id, line, quantity)
        for line, needed in wanted
        for warehouse_id, quantity in take(needed, reserved.get(line.id, []))
    ]
    # balance rows in one global order, so two shipments cannot deadlock on them
    posts.sort(key=lambda p: (p[0], p[1], p[2].id))
    for item_id, warehouse_id, line, quantity in posts:
        balance = await ledger.post(
            session, item_id=item_id, warehouse_id=warehouse_id, kind="SHIP",
            on_hand=-quantity, reserved=-quantity, reference=line_reference(line.id),
            actor=actor,
        )
        if balance is None:  # the balance disagrees with the line's moves: refuse, change nothing
            raise DomainError.one(
                ErrorCode.INSUFFICIENT_STOCK, "stock balance does not cover the reservation",
            )

    shipment = Shipment(
        number=await next_number(session, "shipment"),
        order_id=order.id,
        carrier=request.carrier.strip() if request.carrier else None,
        tracking_number=request.tracking_number.strip() if request.tracking_number else None,
    )
    session.add(shipment)
    await session.flush()
    await session.execute(
        insert(ShipmentLine),
        [
            {"shipment_id": shipment.id, "order_line_id": line.id, "item_id": line.item_id,
             "quantity": quantity}
            for line, quantity in wanted
        ],
    )
    for line, quantity in wanted:
        line.shipped_quantity = line.shipped_quantity + quantity
    await session.flush()

    await record_event(
        session, "shipment.created", "Shipment", shipment.id,
        {
            "orderId": order.id,
            "number": shipment.number,
            "lines": [{"lineId": line.id, "quantity": str(q)} for line, q in wanted],
        },
        actor,
    )
    complete = all(line.shipped_quantity >= line.quantity for line in lines.values())
    status = OrderStatus.SHIPPED if complete else OrderStatus.PARTIALLY_SHIPPED
    if status != order.status:
        await change_status(session, order, status, reason=f"shipment {shipment.number}", actor=actor)
    await session.refresh(shipment)
    await session.flush()  # updated_at comes back with the UPDATE (eager defaults)
    return order, shipment
