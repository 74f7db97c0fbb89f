"""Available to promise: when can ``quantity`` more of an item be delivered?

``available_to_promise`` is a pure function over plain data; ``load_atp_inputs`` reads
that data for a batch of items. Item.availableToPromise and order confirmation both
go through these two, so a promise shown to a salesperson is the one an order gets.

Supply is taken in this order: stock available now (on hand − reserved, all
warehouses), then open scheduled receipts by due date after earlier promises have
claimed theirs (first promised, first served), then — for what no receipt covers —
replenishment: today + the item's lead time, or for a MAKE item the longest
cumulative lead time down its BOM. Receipts are the open quantities of purchase
order lines and of work orders (not yet completed) at their due dates; claims are the
backordered quantities of confirmed sales order lines at their promised dates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import StockBalance, StockMove
from domain.production.models import OPEN_STATUSES as OPEN_WORK_ORDER_STATUSES
from domain.production.models import WorkOrder
from domain.purchasing.models import OPEN_STATUSES, PurchaseOrder, PurchaseOrderLine
from domain.sales.models import SalesOrder, SalesOrderLine

ZERO = Decimal(0)


@dataclass(frozen=True)
class Receipt:
    """An open purchase or work order line: ``quantity`` arrives on ``due``."""

    due: date
    quantity: Decimal


@dataclass(frozen=True)
class Claim:
    """Quantity already promised to an earlier order out of future receipts."""

    promised: date
    quantity: Decimal


@dataclass(frozen=True)
class Atp:
    available_now: Decimal
    date: date


@dataclass(frozen=True)
class BomNode:
    procurement: str
    lead_time_days: int
    components: tuple[int, ...] = ()


@dataclass
class AtpInputs:
    """Everything ATP needs about one item, as plain data."""

    available_now: Decimal
    replenishment_days: int
    receipts: list[Receipt] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)


def cumulative_lead_time(item_id: int, nodes: Mapping[int, BomNode]) -> int:
    """Days to replenish ``item_id``: its lead time, plus for MAKE the slowest component chain.

    A component that leads back to an item already on the path adds nothing, so a
    cyclic BOM (refused on write, but possible in imported data) cannot loop.
    """
    memo: dict[int, int] = {}

    def walk(node_id: int, path: frozenset[int]) -> int:
        if node_id in memo:
            return memo[node_id]
        node = nodes.get(node_id)
        if node is None:
            return 0
        days = node.lead_time_days
        if node.procurement == "MAKE":
            inner = path | {node_id}
            days += max(
                (walk(c, inner) for c in node.components if c not in inner), default=0
            )
        memo[node_id] = days
        return days

    return walk(item_id, frozenset())


def available_to_promise(
    quantity: Decimal,
    *,
    today: date,
    available_now: Decimal,
    replenishment_days: int,
    receipts: Iterable[Receipt] = (),
    claims: Iterable[Claim] = (),
) -> Atp:
    """Earliest date on which ``quantity`` can be delivered, and what stock covers now."""
    now = max(available_now, ZERO)
    if quantity <= now:
        return Atp(now, today)
    # Earlier promises consume the earliest receipts first.
    owed = sum((c.quantity for c in claims), ZERO)
    covered = now
    for receipt in sorted(receipts, key=lambda r: r.due):
        claimed = min(owed, receipt.quantity)
        owed -= claimed
        covered += receipt.quantity - claimed
        if receipt.quantity > claimed and covered >= quantity:
            return Atp(now, max(receipt.due, today))
    return Atp(now, today + timedelta(days=replenishment_days))


def promise(quantity: Decimal, inputs: AtpInputs, today: date) -> Atp:
    return available_to_promise(
        quantity,
        today=today,
        available_now=inputs.available_now,
        replenishment_days=inputs.replenishment_days,
        receipts=inputs.receipts,
        claims=inputs.claims,
    )


_BOM_CLOSURE = text(
    """
    WITH RECURSIVE tree(id) AS (
        SELECT unnest(CAST(:ids AS bigint[]))
        UNION
        SELECT bl.component_id FROM tree t JOIN bom_lines bl ON bl.bom_item_id = t.id
    )
    SELECT i.id, i.procurement, i.lead_time_days,
           coalesce(array_agg(bl.component_id) FILTER (WHERE bl.component_id IS NOT NULL), '{}')
    FROM tree t
    JOIN items i ON i.id = t.id
    LEFT JOIN bom_lines bl ON bl.bom_item_id = i.id AND i.procurement = 'MAKE'
    GROUP BY i.id, i.procurement, i.lead_time_days
    """
).bindparams(bindparam("ids", type_=ARRAY(BIGINT)))


# Sales orders whose unreserved, unshipped quantity has been promised to a date.
BACKORDER_STATES = ("CONFIRMED", "PARTIALLY_SHIPPED")


async def _receipts(session: AsyncSession, ids: list[int]) -> dict[int, list[Receipt]]:
    """Open purchase order lines and work orders as scheduled receipts, by due date
    (each served by its (item_id, due_date) index)."""
    line = PurchaseOrderLine
    rows = await session.execute(
        select(line.item_id, line.due_date, line.quantity - line.received_quantity)
        .join(PurchaseOrder, PurchaseOrder.id == line.order_id)
        .where(
            line.item_id.in_(ids),
            PurchaseOrder.status.in_(OPEN_STATUSES),
            line.received_quantity < line.quantity,
        )
        .order_by(line.item_id, line.due_date, line.id)
    )
    found: dict[int, list[Receipt]] = defaultdict(list)
    for item_id, due, quantity in rows:
        found[item_id].append(Receipt(due, quantity))
    work_orders = await session.execute(
        select(WorkOrder.item_id, WorkOrder.due_date, WorkOrder.quantity - WorkOrder.completed_quantity)
        .where(
            WorkOrder.item_id.in_(ids),
            WorkOrder.status.in_(OPEN_WORK_ORDER_STATUSES),
            WorkOrder.completed_quantity < WorkOrder.quantity,
        )
    )
    for item_id, due, quantity in work_orders:
        found[item_id].append(Receipt(due, quantity))
    return found


async def scheduled_receipts(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, list[Receipt]]:
    """Open purchase order lines and work orders of the items (two statements)."""
    ids = sorted(set(item_ids))
    return await _receipts(session, ids) if ids else {}


async def _claims(session: AsyncSession, ids: list[int]) -> dict[int, list[Claim]]:
    """Backordered quantities of confirmed order lines: what earlier promises owe."""
    line = SalesOrderLine
    reserved = (
        select(func.coalesce(func.sum(StockMove.quantity_reserved), ZERO))
        .where(StockMove.reference_type == "SalesOrderLine", StockMove.reference_id == line.id)
        .correlate(line)
        .scalar_subquery()
    )
    backorder = (line.quantity - line.shipped_quantity - reserved).label("backorder")
    rows = await session.execute(
        select(line.item_id, line.promised_date, backorder)
        .join(SalesOrder, SalesOrder.id == line.order_id)
        .where(
            line.item_id.in_(ids),
            SalesOrder.status.in_(BACKORDER_STATES),
            line.promised_date.is_not(None),
            line.quantity - line.shipped_quantity - reserved > 0,
        )
    )
    found: dict[int, list[Claim]] = defaultdict(list)
    for item_id, promised, quantity in rows:
        if promised is not None:  # filtered above; narrows the type
            found[item_id].append(Claim(promised, quantity))
    return found


async def load_atp_inputs(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, AtpInputs]:
    """ATP inputs of several items in at most five statements; unknown ids are left out.

    Stock is read as the session sees it, so a caller holding the balance locks
    (order confirmation, after reserving) gets what is left after its reservation.
    """
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    nodes: dict[int, BomNode] = {}
    for node_id, procurement, lead, components in await session.execute(
        _BOM_CLOSURE, {"ids": ids}
    ):
        nodes[node_id] = BomNode(procurement, lead, tuple(components))
    available: dict[int, Decimal] = defaultdict(lambda: ZERO)
    rows = await session.execute(
        select(StockBalance.item_id, func.sum(StockBalance.on_hand - StockBalance.reserved))
        .where(StockBalance.item_id.in_(ids))
        .group_by(StockBalance.item_id)
    )
    for item_id, qty in rows:
        available[item_id] = qty
    receipts = await _receipts(session, ids)
    # claims matter only against receipts
    claims = await _claims(session, sorted(receipts)) if receipts else {}
    return {
        item_id: AtpInputs(
            available_now=available[item_id],
            replenishment_days=cumulative_lead_time(item_id, nodes),
            receipts=receipts.get(item_id, []),
            claims=claims.get(item_id, []),
        )
        for item_id in ids
        if item_id in nodes
    }


