"""Loading what available-to-promise needs (the rule itself is ``domain.inventory.atp``).

Item.availableToPromise, order confirmation and re-promising read their inputs
here, so a promise shown to a salesperson is the one an order gets. Receipts are
the open quantities of purchase order lines and of work orders not yet completed,
at their due dates; claims are the backorders of open sales order lines at their
promised dates (``domain.sales.reservations``). The claims of made items on their
components are derived from those by the rule (``domain.inventory.atp``); what open
work orders still have to issue claims their components too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Numeric, Select, String, bindparam, cast, exists, func, literal, null, select, text, union_all
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.atp import ZERO, AtpInputs, Claim, Component, Receipt
from domain.inventory.models import Bom, BomLine, Item
from domain.inventory.stock import free_stock
from domain.production.models import OPEN_STATUSES as OPEN_WORK_ORDER_STATUSES
from domain.production.models import WorkOrder, WorkOrderComponent
from domain.production.requirements import component_requirement
from domain.purchasing.models import OPEN_STATUSES as OPEN_PURCHASE_ORDER_STATUSES
from domain.purchasing.models import PurchaseOrder, PurchaseOrderLine
from domain.sales.models import OPEN_ORDER_STATUSES, SalesOrder, SalesOrderLine
from domain.sales.reservations import UNRESERVED

# The items the BOMs of ``ids`` reach (down), then every item that uses any of
# them (up): the parents' backorders are what derive component claims.
_BOM_CLOSURE = text(
    """
    WITH RECURSIVE down(id) AS (
        SELECT unnest(CAST(:ids AS bigint[]))
        UNION
        SELECT bl.component_id FROM down d
        JOIN items i ON i.id = d.id AND i.procurement = 'MAKE'
        JOIN bom_lines bl ON bl.bom_item_id = d.id
    ), up(id) AS (
        SELECT id FROM down
        UNION
        SELECT bl.bom_item_id FROM up u
        JOIN bom_lines bl ON bl.component_id = u.id
        JOIN items i ON i.id = bl.bom_item_id AND i.procurement = 'MAKE'
    )
    SELECT i.id, i.procurement, i.lead_time_days, i.uom, coalesce(b.output_quantity, 1),
           coalesce(array_agg(bl.component_id ORDER BY bl.position)
                    FILTER (WHERE bl.component_id IS NOT NULL), '{}'),
           coalesce(array_agg(bl.quantity ORDER BY bl.position)
                    FILTER (WHERE bl.component_id IS NOT NULL), '{}'),
           coalesce(array_agg(bl.scrap_rate ORDER BY bl.position)
                    FILTER (WHERE bl.component_id IS NOT NULL), '{}')
    FROM up t
    JOIN items i ON i.id = t.id
    LEFT JOIN boms b ON b.item_id = i.id AND i.procurement = 'MAKE'
    LEFT JOIN bom_lines bl ON bl.bom_item_id = b.item_id
    GROUP BY i.id, i.procurement, i.lead_time_days, i.uom, b.output_quantity
    """
).bindparams(bindparam("ids", type_=ARRAY(BIGINT)))


async def _receipts(session: AsyncSession, ids: list[int]) -> dict[int, list[Receipt]]:
    """Open purchase order lines and work orders as scheduled receipts, by due date
    (each served by its (item_id, due_date) index)."""
    line = PurchaseOrderLine
    rows = await session.execute(
        select(line.item_id, line.due_date, line.quantity - line.received_quantity)
        .join(PurchaseOrder, PurchaseOrder.id == line.order_id)
        .where(
            line.item_id.in_(ids),
            PurchaseOrder.status.in_(OPEN_PURCHASE_ORDER_STATUSES),
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


_NONE = cast(null(), Numeric)
_Rows = Select[*tuple[Any, ...]]
# the kind of each claim row
_BACKORDER, _TO_ISSUE, _BY_BOM = "B", "I", "U"


def _backorders(ids: list[int]) -> _Rows:
    """Backorders of promised open order lines: what earlier promises owe."""
    line = SalesOrderLine
    return (
        select(line.item_id, line.promised_date, UNRESERVED, literal(_BACKORDER, String), _NONE, _NONE, _NONE)
        .join(SalesOrder, SalesOrder.id == line.order_id)
        .where(
            line.item_id.in_(ids),
            SalesOrder.status.in_(OPEN_ORDER_STATUSES),
            line.promised_date.is_not(None),
            UNRESERVED > 0,
        )
    )


def _to_issue(ids: list[int]) -> tuple[_Rows, _Rows]:
    """What open work orders still have to issue of the items, at their start dates
    (due date − lead time without one), as MRP counts it: released ones by their
    component rows, unreleased ones (no rows yet) by their BOM."""
    wo, c = WorkOrder, WorkOrderComponent
    start = func.coalesce(wo.start_date, wo.due_date - Item.lead_time_days)
    released = (
        select(c.item_id, start, c.required_quantity - c.issued_quantity,
               literal(_TO_ISSUE, String), _NONE, _NONE, _NONE)
        .join(wo, wo.id == c.work_order_id)
        .join(Item, Item.id == wo.item_id)
        .where(c.item_id.in_(ids), wo.status.in_(OPEN_WORK_ORDER_STATUSES),
               c.required_quantity > c.issued_quantity)
    )
    unreleased = (
        select(BomLine.component_id, start, wo.quantity - wo.completed_quantity,
               literal(_BY_BOM, String), BomLine.quantity, BomLine.scrap_rate, Bom.output_quantity)
        .join(wo, wo.item_id == BomLine.bom_item_id)
        .join(Bom, Bom.item_id == wo.item_id)
        .join(Item, Item.id == wo.item_id)
        .where(BomLine.component_id.in_(ids), wo.status.in_(OPEN_WORK_ORDER_STATUSES),
               wo.quantity > wo.completed_quantity, ~exists().where(c.work_order_id == wo.id))
    )
    return released, unreleased


async def _claims(
    session: AsyncSession, ids: list[int], *, work_orders: bool
) -> tuple[dict[int, list[Claim]], dict[int, list[Claim]]]:
    """Backorders of the items and, with ``work_orders``, what open work orders still
    have to issue of them: one statement."""
    statement = union_all(_backorders(ids), *_to_issue(ids)) if work_orders else _backorders(ids)
    backorders: dict[int, list[Claim]] = defaultdict(list)
    to_issue: dict[int, list[Claim]] = defaultdict(list)
    for item_id, when, quantity, kind, per, scrap, output in await session.execute(statement):
        if kind == _BACKORDER:
            backorders[item_id].append(Claim(when, quantity))
        else:
            to_issue[item_id].append(
                Claim(when, quantity if kind == _TO_ISSUE else component_requirement(quantity, per, scrap, output))
            )
    return backorders, to_issue


async def load_atp_inputs(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, AtpInputs]:
    """ATP inputs of the items, of everything their BOMs reach and of every item that
    uses those (for the claims of its backorders), in at most five statements; unknown
    ids are left out. ``domain.inventory.atp.promise`` takes the whole mapping.

    Stock is read as the session sees it, so a caller holding the balance locks
    (order confirmation, after reserving) gets what is left after its reservation.
    """
    requested = sorted(set(item_ids))
    if not requested:
        return {}
    items: dict[int, AtpInputs] = {}
    for node_id, procurement, lead, uom, output, components, quantities, scraps in await session.execute(
        _BOM_CLOSURE, {"ids": requested}
    ):
        items[node_id] = AtpInputs(
            ZERO, lead, procurement=procurement, uom=uom, output_quantity=output,
            components=tuple(Component(*line) for line in zip(components, quantities, scraps, strict=True)),
        )
    ids = sorted(items)
    available = await free_stock(session, ids)
    receipts = await _receipts(session, ids)
    # claims take receipts, and what a made item's claims leave to make takes components
    making = any(item.procurement == "MAKE" for item in items.values())
    claims, to_issue = (
        await _claims(session, ids if making else sorted(receipts), work_orders=making)
        if receipts or making else ({}, {})
    )
    for item_id, item in items.items():
        item.available_now = available.get(item_id, ZERO)
        item.receipts = receipts.get(item_id, [])
        item.claims = claims.get(item_id, [])
        item.to_issue = to_issue.get(item_id, [])
    return items
