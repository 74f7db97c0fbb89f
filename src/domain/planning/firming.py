"""Firming planned orders: MRP's suggestions become purchase orders and work orders.

A firmed planned order keeps its row (status FIRMED) and points at the purchase
order line or work order it became; later MRP runs delete only PLANNED rows and
count the document as supply, so what was firmed is never planned twice.

The planned order rows are locked first, in id order: a concurrent MRP save (which
deletes PLANNED rows) waits for the firm and then leaves the FIRMED rows alone, and
a concurrent firm of the same ids waits and then finds them FIRMED. The documents
are created by the purchasing and production use cases, so they are checked,
numbered and recorded exactly as if entered by hand.

With ``merge``, purchases of one supplier (the item's default supplier, by id; subcontract
orders apart) become one purchase order whose lines keep their own due dates, and
productions of one item whose due dates lie within :data:`MERGE_WINDOW` of the
earliest become one work order for their total, due on that earliest date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import Item
from domain.planning.data import planned_order_number
from domain.planning.models import PlannedOrder
from domain.production.models import WorkOrder
from domain.production.services import NewWorkOrder, create_work_order
from domain.purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier
from domain.purchasing.services import NewPurchaseLine, NewPurchaseOrder, create_purchase_order
from domain.shared.errors import DomainError, ErrorCode, Problems, invalid
from domain.shared.events import record_event

MERGE_WINDOW = timedelta(days=7)
LOCK_WAIT_MS = 5_000
LOCK_NOT_AVAILABLE = "55P03"
BOUGHT = ("PURCHASE", "SUBCONTRACT")


@dataclass
class Firmed:
    """The documents created, in the order the request first named their planned orders."""

    purchase_orders: list[PurchaseOrder] = field(default_factory=list)
    work_orders: list[WorkOrder] = field(default_factory=list)


@dataclass(frozen=True)
class _Order:
    row: PlannedOrder
    item: Item

    @property
    def supplier_id(self) -> int:
        assert self.item.default_supplier_id is not None  # checked before anything is created
        return self.item.default_supplier_id


def _clusters(orders: Sequence[_Order]) -> list[list[_Order]]:
    """Groups in due-date order, each within MERGE_WINDOW of its earliest due date."""
    clusters: list[list[_Order]] = []
    for order in sorted(orders, key=lambda o: (o.row.due_date, o.row.id)):
        if clusters and order.row.due_date - clusters[-1][0].row.due_date <= MERGE_WINDOW:
            clusters[-1].append(order)
        else:
            clusters.append([order])
    return clusters


async def _lock(session: AsyncSession, ids: Sequence[int]) -> dict[int, PlannedOrder]:
    """Lock the rows; a firm of the same ids waits, an MRP save replacing them is refused.

    A running MRP save holds the previous plan's rows until it commits (a minute on a
    large catalogue), and then they are gone: rather than hang the request, give up
    after :data:`LOCK_WAIT` with CONFLICT.
    """
    await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'"))
    try:
        rows = await session.execute(
            select(PlannedOrder)
            .where(PlannedOrder.id.in_(sorted(set(ids))))
            .order_by(PlannedOrder.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise DomainError.one(
            ErrorCode.CONFLICT,
            "an MRP run is replacing these planned orders; firm from its plan once it has finished",
            ["ids"],
        ) from None
    await session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
    return {row.id: row for row in rows.scalars()}


async def _check(session: AsyncSession, ids: Sequence[int]) -> list[_Order]:
    """The planned orders of ``ids`` (locked, request order); a DomainError names every bad id."""
    problems = Problems()
    if not ids:
        raise invalid("at least one planned order is required", "ids")
    first_at: dict[int, int] = {}
    for i, planned_id in enumerate(ids):
        if planned_id in first_at:
            problems.invalid(f"repeats ids[{first_at[planned_id]}]", "ids", str(i))
        first_at.setdefault(planned_id, i)

    rows = await _lock(session, ids)
    item_ids = sorted({row.item_id for row in rows.values()})
    items = {item.id: item for item in (await session.execute(select(Item).where(Item.id.in_(item_ids)))).scalars()}
    supplier_ids = sorted({i.default_supplier_id for i in items.values() if i.default_supplier_id is not None})
    suppliers = {
        supplier.id: supplier
        for supplier in (await session.execute(select(Supplier).where(Supplier.id.in_(supplier_ids)))).scalars()
    }
    orders: list[_Order] = []
    for planned_id, i in first_at.items():
        path = ("ids", str(i))
        row = rows.get(planned_id)
        if row is None:
            problems.add(ErrorCode.NOT_FOUND, "planned order not found (a later MRP run may have replaced it)",
                         *path)
            continue
        item = items[row.item_id]
        if row.status != "PLANNED":
            problems.add(
                ErrorCode.INVALID_STATE,
                f"planned order {planned_order_number(row.id)} for {item.sku} is already {row.status}", *path,
            )
        elif row.kind in BOUGHT:
            supplier = None if item.default_supplier_id is None else suppliers[item.default_supplier_id]
            if supplier is None:
                problems.invalid(f"item {item.sku} has no default supplier to order from", *path)
            elif not supplier.active:
                problems.add(ErrorCode.INVALID_STATE, f"the default supplier {supplier.code} of item {item.sku} "
                             "is inactive: it takes no new orders", *path)
        orders.append(_Order(row, item))
    problems.raise_if_any()
    return orders


def _purchase_line(order: _Order) -> NewPurchaseLine:
    return NewPurchaseLine(order.item.id, order.row.quantity, order.row.due_date, order.item.standard_cost)


async def _purchase(
    session: AsyncSession, supplier_id: int, subcontract: bool, orders: Sequence[_Order], actor: str | None
) -> PurchaseOrder:
    """One purchase order, one line per planned order (due-date order); links each to its line."""
    orders = sorted(orders, key=lambda o: (o.row.due_date, o.item.id, o.row.id))
    document = await create_purchase_order(
        session, NewPurchaseOrder(supplier_id, [_purchase_line(o) for o in orders], subcontract), actor,
        firmed=True,
    )
    line_ids = (
        await session.execute(
            select(PurchaseOrderLine.id)
            .where(PurchaseOrderLine.order_id == document.id)
            .order_by(PurchaseOrderLine.position)
        )
    ).scalars().all()
    for order, line_id in zip(orders, line_ids, strict=True):
        await _mark(session, order, actor, purchase_order_id=document.id, purchase_order_line_id=line_id)
    return document


async def _produce(session: AsyncSession, orders: Sequence[_Order], actor: str | None) -> WorkOrder:
    """One work order for the total of ``orders`` (one item), due on the earliest due date."""
    earliest = min(o.row.due_date for o in orders)
    quantity = sum((o.row.quantity for o in orders), Decimal(0))
    # the use case starts it lead-time days before it is due: the planned release date
    document = await create_work_order(session, NewWorkOrder(orders[0].item.id, quantity, earliest), actor)
    for order in orders:
        await _mark(session, order, actor, work_order_id=document.id)
    return document


async def _mark(
    session: AsyncSession,
    order: _Order,
    actor: str | None,
    *,
    work_order_id: int | None = None,
    purchase_order_id: int | None = None,
    purchase_order_line_id: int | None = None,
) -> None:
    row = order.row
    row.status = "FIRMED"
    row.work_order_id = work_order_id
    row.purchase_order_line_id = purchase_order_line_id
    await record_event(
        session, "planned_order.firmed", "PlannedOrder", row.id,
        {"runId": row.run_id, "itemId": row.item_id, "kind": row.kind, "quantity": str(row.quantity),
         "dueDate": str(row.due_date), "workOrderId": work_order_id,
         "purchaseOrderId": purchase_order_id, "purchaseOrderLineId": purchase_order_line_id},
        actor,
    )


async def firm_planned_orders(
    session: AsyncSession, ids: list[int], merge: bool, *, actor: str | None
) -> Firmed:
    """Turn the planned orders ``ids`` into purchase and work orders, all or none.

    Every problem (empty or repeated ids, unknown or already firmed planned orders, a
    purchase of an item without a default supplier or from an inactive one) is reported at once and nothing
    is created. Without ``merge`` each planned order becomes its own document.
    """
    orders = await _check(session, ids)
    firmed = Firmed()
    if not merge:
        for order in orders:
            if order.row.kind in BOUGHT:
                firmed.purchase_orders.append(
                    await _purchase(session, order.supplier_id, order.row.kind == "SUBCONTRACT", [order], actor)
                )
            else:
                firmed.work_orders.append(await _produce(session, [order], actor))
        await session.flush()
        return firmed

    purchases: dict[tuple[int, bool], list[_Order]] = {}
    productions: dict[int, list[_Order]] = {}
    for order in orders:
        if order.row.kind in BOUGHT:
            purchases.setdefault((order.supplier_id, order.row.kind == "SUBCONTRACT"), []).append(order)
        else:
            productions.setdefault(order.item.id, []).append(order)
    for (supplier_id, subcontract), group in purchases.items():
        firmed.purchase_orders.append(await _purchase(session, supplier_id, subcontract, group, actor))
    for group in productions.values():
        for cluster in _clusters(group):
            firmed.work_orders.append(await _produce(session, cluster, actor))
    await session.flush()
    return firmed

