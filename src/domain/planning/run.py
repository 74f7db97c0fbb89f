"""An MRP run against the database: load the inputs, plan, save the plan.

The pure planning module (:func:`domain.planning.plan`) does the arithmetic; this
module only moves rows. It talks to asyncpg directly: a large catalogue means a
million rows in and several million out, and COPY is the only way to write those
in seconds.

- **Load** happens in one REPEATABLE READ, READ ONLY transaction, so every input
  comes from one snapshot (an order confirmed mid-load is wholly in or wholly out).
  A read-only transaction takes no transaction id, so it holds nothing back.
- **Save** happens in one transaction: the run's planned orders, their pegging and
  its messages are written and every PLANNED order of earlier runs is deleted, all
  or nothing. A worker killed mid-save leaves the previous plan as it was. FIRMED
  planned orders stay: what they became (a purchase order line or work order) is
  supply for the next run, so they are never counted twice. The save is two steps,
  :func:`replace_earlier` and :func:`write_plan`, in one transaction the worker opens
  (``workers.mrp.execute_run``) so the server deletes the earlier plan while it plans.

Demand (what must be covered), at the date it is needed:

- confirmed sales order lines not yet shipped, the part not reserved from stock,
  at the order's requested date (or ``start_date`` when there is none);
- with ``forecast_min_probability``, lines of open opportunities at or above it,
  at the expected close date (or ``start_date``);
- components still to be issued to open work orders, at the work order's start
  date (due date − the item's lead time when it has none); a PLANNED work order has
  no component rows yet, so its remaining quantity is exploded through the BOM;
- safety stock (the planning module keeps it).

Supply: stock on hand not reserved (all warehouses), open purchase order lines and
open work orders at their due dates.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from domain.planning.data import (
    PLANNED_ORDER,
    BomComponent,
    Demand,
    Message,
    Plan,
    PlanItem,
    Receipt,
    planned_order_number,
)
from domain.production.models import OPEN_STATUSES as OPEN_WORK_ORDER_STATUSES
from domain.production.requirements import component_requirement
from domain.purchasing.models import OPEN_STATUSES as OPEN_PURCHASE_STATUSES
from domain.sales.models import OPEN_ORDER_STATUSES
from domain.sales.reservations import reserved_sql

CLOSED_OPPORTUNITY_STAGES = ("WON", "LOST")

# Demand refs carry the document a peg points to: "S<sales order id>", "F<opportunity
# id>", "W<work order id>".
SALES, FORECAST, WORK_ORDER = "S", "F", "W"

Progress = Callable[[float, str], Awaitable[None]]

_ITEMS = """
SELECT i.id, i.procurement, i.lead_time_days, i.safety_stock, i.scrap_rate, i.lot_sizing,
       i.fixed_lot_size, i.min_order_quantity, i.lot_multiple, i.uom,
       coalesce(s.available, 0) AS available, b.output_quantity
FROM items i
LEFT JOIN (SELECT item_id, sum(on_hand - reserved) AS available
           FROM stock_balances GROUP BY item_id) s ON s.item_id = i.id
LEFT JOIN boms b ON b.item_id = i.id
"""

_BOM_LINES = """
SELECT bom_item_id, component_id, quantity, scrap_rate
FROM bom_lines ORDER BY bom_item_id, position, id
"""

# what is reserved for a line: the one definition (domain.sales.reservations), as text
_SALES_DEMAND = f"""
SELECT l.item_id, o.requested_date, l.quantity - l.shipped_quantity - r.reserved, o.id
FROM sales_orders o
JOIN sales_order_lines l ON l.order_id = o.id
LEFT JOIN LATERAL ({reserved_sql("l.id")}) r ON true
WHERE o.status = ANY($1::text[])
  AND l.quantity - l.shipped_quantity - r.reserved > 0
ORDER BY o.id, l.position, l.id
"""

_FORECAST_DEMAND = """
SELECT l.item_id, o.expected_close_date, l.quantity, o.id
FROM opportunities o
JOIN opportunity_lines l ON l.opportunity_id = o.id
WHERE o.stage <> ALL($1::text[]) AND o.probability >= $2
ORDER BY o.id, l.position, l.id
"""

_WORK_ORDER_COMPONENT_DEMAND = """
SELECT c.item_id, coalesce(w.start_date, w.due_date - i.lead_time_days),
       c.required_quantity - c.issued_quantity, w.id
FROM work_orders w
JOIN items i ON i.id = w.item_id
JOIN work_order_components c ON c.work_order_id = w.id
WHERE w.status = ANY($1::text[]) AND c.required_quantity > c.issued_quantity
ORDER BY w.id, c.position
"""

# PLANNED work orders get component rows at release; until then the BOM says what they need
_UNRELEASED_WORK_ORDER_DEMAND = """
SELECT bl.component_id, coalesce(w.start_date, w.due_date - i.lead_time_days),
       w.quantity - w.completed_quantity, bl.quantity, bl.scrap_rate, b.output_quantity, w.id
FROM work_orders w
JOIN items i ON i.id = w.item_id
JOIN boms b ON b.item_id = w.item_id
JOIN bom_lines bl ON bl.bom_item_id = w.item_id
WHERE w.status = ANY($1::text[]) AND w.quantity > w.completed_quantity
  AND NOT EXISTS (SELECT 1 FROM work_order_components c WHERE c.work_order_id = w.id)
ORDER BY w.id, bl.position, bl.id
"""

_PURCHASE_RECEIPTS = """
SELECT l.item_id, l.due_date, l.quantity - l.received_quantity
FROM purchase_orders p JOIN purchase_order_lines l ON l.order_id = p.id
WHERE p.status = ANY($1::text[]) AND l.quantity > l.received_quantity
"""

_WORK_ORDER_RECEIPTS = """
SELECT item_id, due_date, quantity - completed_quantity
FROM work_orders WHERE status = ANY($1::text[]) AND quantity > completed_quantity
"""


@dataclass(slots=True)
class Inputs:
    items: list[PlanItem]
    demands: list[Demand]
    receipts: list[Receipt]


@dataclass(frozen=True, slots=True)
class Saved:
    planned_orders: int
    peggings: int
    messages: int
    replaced: int
    seconds: float


async def load(conn: asyncpg.Connection, start_date: date, forecast_min_probability: int | None) -> Inputs:
    """Every input of a run, from one snapshot (see the module docstring)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        bom: dict[int, list[BomComponent]] = {}
        for parent, component, quantity, scrap in await conn.fetch(_BOM_LINES):
            lines = bom.get(parent)
            if lines is None:
                bom[parent] = lines = []
            lines.append(BomComponent(component, quantity, scrap))
        items = [
            PlanItem(
                id=row[0], procurement=row[1], lead_time_days=row[2], safety_stock=row[3],
                scrap_rate=row[4], lot_sizing=row[5], fixed_lot_size=row[6],
                min_order_quantity=row[7], lot_multiple=row[8], uom=row[9],
                on_hand_available=row[10],
                bom=tuple(bom.get(row[0], ())),
                bom_output_quantity=row[11] if row[11] is not None else Decimal(1),
                has_bom=row[11] is not None,
            )
            for row in await conn.fetch(_ITEMS)
        ]
        del bom
        demands: list[Demand] = [
            Demand(item_id, when or start_date, quantity, "SALES_ORDER", f"{SALES}{order_id}")
            for item_id, when, quantity, order_id in await conn.fetch(
                _SALES_DEMAND, list(OPEN_ORDER_STATUSES)
            )
        ]
        if forecast_min_probability is not None:
            demands.extend(
                Demand(item_id, when or start_date, quantity, "FORECAST", f"{FORECAST}{opportunity_id}")
                for item_id, when, quantity, opportunity_id in await conn.fetch(
                    _FORECAST_DEMAND, list(CLOSED_OPPORTUNITY_STAGES), forecast_min_probability
                )
            )
        open_work_orders = list(OPEN_WORK_ORDER_STATUSES)
        demands.extend(
            Demand(item_id, when, quantity, "DEPENDENT", f"{WORK_ORDER}{work_order_id}")
            for item_id, when, quantity, work_order_id in await conn.fetch(
                _WORK_ORDER_COMPONENT_DEMAND, open_work_orders
            )
        )
        demands.extend(
            Demand(item_id, when, component_requirement(remaining, per, scrap, output), "DEPENDENT",
                   f"{WORK_ORDER}{work_order_id}")
            for item_id, when, remaining, per, scrap, output, work_order_id in await conn.fetch(
                _UNRELEASED_WORK_ORDER_DEMAND, open_work_orders
            )
        )
        receipts = [
            Receipt(item_id, when, quantity)
            for item_id, when, quantity in await conn.fetch(_PURCHASE_RECEIPTS, list(OPEN_PURCHASE_STATUSES))
        ]
        receipts.extend(
            Receipt(item_id, when, quantity)
            for item_id, when, quantity in await conn.fetch(_WORK_ORDER_RECEIPTS, open_work_orders)
        )
    return Inputs(items, demands, receipts)


def items_planned(inputs: Inputs, plan: Plan) -> int:
    """Items that were netted: every item but those caught in a BOM cycle."""
    in_cycles = {message.item_id for message in plan.messages if message.code == "CYCLE"}
    return len(inputs.items) - len(in_cycles)


def _peg_document(ref: str | None) -> tuple[int | None, int | None, int | None]:
    """(sales order id, opportunity id, work order id) of a demand ref."""
    if not ref:
        return None, None, None
    kind, number = ref[0], int(ref[1:])
    if kind == SALES:
        return number, None, None
    if kind == FORECAST:
        return None, number, None
    return None, None, number


async def replace_earlier(conn: asyncpg.Connection, run_id: int) -> int:
    """Delete every PLANNED order of runs other than ``run_id`` with its pegging; the count deleted.

    Call it inside the save transaction. The pegging has no foreign
    keys (see :mod:`domain.planning.models`), so this is what keeps it whole: the pegging
    of the orders going is deleted first, then the links to them from the pegging that
    stays (of FIRMED orders) are cleared, then the orders, each in one set-based statement.
    """
    await conn.execute(
        "DELETE FROM peggings p USING planned_orders o"
        " WHERE p.planned_order_id = o.id AND o.status = 'PLANNED' AND o.run_id <> $1",
        run_id,
    )
    await conn.execute(
        "UPDATE peggings SET parent_planned_order_id = NULL WHERE parent_planned_order_id IN"
        " (SELECT id FROM planned_orders WHERE status = 'PLANNED' AND run_id <> $1)",
        run_id,
    )
    status = await conn.execute(
        "DELETE FROM planned_orders WHERE status = 'PLANNED' AND run_id <> $1", run_id
    )
    return int(status.split()[-1])


def _saved_text(message: Message, offset: int) -> str:
    """The message's text naming its planned order by the number it is saved under."""
    if message.planned_order_id is None:
        return message.text
    return message.text.replace(PLANNED_ORDER, planned_order_number(message.planned_order_id + offset))


async def write_plan(
    conn: asyncpg.Connection,
    run_id: int,
    plan: Plan,
    items_planned: int,
    replaced: int,
    progress: Progress | None = None,
) -> Saved:
    """Write the plan of ``run_id`` with COPY and mark the run completed.

    Call it inside the save transaction, after :func:`replace_earlier` (``replaced`` is
    what it returned); ``seconds`` is the time of the writing alone.
    """
    began = time.perf_counter()
    orders = plan.planned_orders
    first_id = 0
    if orders:
        # one block of ids for the whole run; only MRP runs (one at a time) take them
        first_id = await conn.fetchval(
            "SELECT setval(pg_get_serial_sequence('planned_orders', 'id'),"
            " nextval(pg_get_serial_sequence('planned_orders', 'id')) + $1 - 1)",
            len(orders),
        ) - len(orders) + 1
    offset = first_id - 1  # plan ids are 1..n in order
    if progress is not None:
        await progress(0.75, f"writing {len(orders):,} planned orders")

    def order_rows() -> Iterator[tuple[Any, ...]]:
        for order in orders:
            yield (order.id + offset, run_id, order.item_id, order.kind, "PLANNED",
                   order.quantity, order.release_date, order.due_date)

    await conn.copy_records_to_table(
        "planned_orders",
        records=order_rows(),
        columns=("id", "run_id", "item_id", "kind", "status", "quantity", "release_date", "due_date"),
    )
    if progress is not None:
        await progress(0.85, "writing pegging")
    peg_count = 0

    def peg_rows() -> Iterator[tuple[Any, ...]]:
        nonlocal peg_count
        for order in orders:
            order_id = order.id + offset
            for position, peg in enumerate(order.pegging, 1):
                parent = peg.parent_planned_order_id
                if parent is not None:
                    yield (order_id, position, peg.source, peg.quantity, peg.date,
                           None, None, None, parent + offset)
                else:
                    sales_order, opportunity, work_order = _peg_document(peg.ref)
                    yield (order_id, position, peg.source, peg.quantity, peg.date,
                           sales_order, opportunity, work_order, None)
            peg_count += len(order.pegging)

    await conn.copy_records_to_table(
        "peggings",
        records=peg_rows(),
        columns=("planned_order_id", "position", "source", "quantity", "date",
                 "sales_order_id", "opportunity_id", "work_order_id", "parent_planned_order_id"),
    )
    if progress is not None:
        await progress(0.95, "writing messages")
    await conn.copy_records_to_table(
        "planning_messages",
        records=((run_id, m.item_id, m.severity, m.code, _saved_text(m, offset)) for m in plan.messages),
        columns=("run_id", "item_id", "severity", "code", "message"),
    )
    await conn.execute(
        "UPDATE mrp_runs SET items_planned = $2, completed_at = now() WHERE id = $1",
        run_id, items_planned,
    )
    return Saved(len(orders), peg_count, len(plan.messages), replaced, time.perf_counter() - began)
