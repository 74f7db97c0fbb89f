"""Kitting reads: can a sales order ship, or a work order be built, now?

They load the needs, stock and receipts; the analysis is ``kitting`` (pure).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import Bom, BomLine, Item
from domain.inventory.stock import free_stock
from domain.production.kitting import Component, Kit, Need, sales_order_kit, work_order_kit
from domain.production.models import OPEN_STATUSES, WorkOrder
from domain.production.requirements import component_requirement
from domain.production.services import load_components
from domain.sales.atp_inputs import scheduled_receipts
from domain.sales.models import SalesOrder, SalesOrderLine
from domain.sales.reservations import RESERVED
from domain.shared.errors import DomainError, ErrorCode

ZERO = Decimal(0)


async def sales_order_kitting(session: AsyncSession, order_id: int, *, today: date) -> Kit:
    """Can the order ship now? Per line: what is still to ship vs its reservation plus
    unreserved stock (shared once across lines of one item). Five statements."""
    if await session.get(SalesOrder, order_id) is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "sales order not found", ["salesOrderId"])
    line = SalesOrderLine
    rows = (
        await session.execute(
            select(line.item_id, line.quantity - line.shipped_quantity, RESERVED)
            .where(line.order_id == order_id)
            .order_by(line.position, line.id)
        )
    ).all()
    needs = [Need(item_id, required, own) for item_id, required, own in rows]
    ids = [need.item_id for need in needs]
    free = await free_stock(session, ids)
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
    released = await load_components(session, order.id)
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
    free = await free_stock(session, ids)
    return work_order_kit(
        components, remaining, done, uom, free, await scheduled_receipts(session, ids), today
    )
