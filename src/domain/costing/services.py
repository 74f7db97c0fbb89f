"""Executing a costing run: load the period's work orders, cost them, revalue, save.

One transaction does it all (the worker's unit of work), so a run that fails or whose
worker dies leaves nothing behind, and running it again (arq retries a job whose
worker vanished) gives the same state: results are keyed by work order and replaced,
and the revaluation posts only the difference between the actual cost and what the
work order has been charged so far, which is zero the second time.

Runs are serialised by a transaction-level advisory lock, so two runs never revalue
the same stock at once. Items are revalued in ascending item id, each through
``ledger.revalue`` (balance locks, then the valuation row, like every movement).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.costing import actual
from domain.costing.actual import CompletedOrder
from domain.costing.models import AllocationBasis, CostingRun, WorkOrderCost
from domain.costing.runs import check_period, completed_in
from domain.inventory import ledger
from domain.inventory.models import StockMove
from domain.production.materials import COMPONENT, WORK_ORDER
from domain.production.models import WorkOrder, WorkOrderComponent
from domain.shared.events import record_event

ZERO = Decimal(0)
COSTED = "costing_run.completed"
COSTS = cast(Table, WorkOrderCost.__table__)


@dataclass(frozen=True, slots=True)
class Received:
    """What the ledger holds of a work order's output: units, value charged, where it arrived."""

    produced: Decimal
    value: Decimal
    warehouse_id: int | None


async def _orders(session: AsyncSession, run: CostingRun) -> list[CompletedOrder]:
    rows = await session.execute(
        select(WorkOrder.id, WorkOrder.item_id, WorkOrder.completed_quantity, WorkOrder.labor_hours,
               WorkOrder.completed_on)
        .where(*completed_in(run.period_start, run.period_end))
        .order_by(WorkOrder.id)
    )
    return [CompletedOrder(r.id, r.item_id, r.completed_quantity, r.labor_hours, r.completed_on) for r in rows]


async def _material(session: AsyncSession, order_ids: list[int]) -> dict[int, Decimal]:
    """− Σ value of the ISSUE rows of each order's components (issues are negative)."""
    rows = await session.execute(
        select(WorkOrderComponent.work_order_id, -func.coalesce(func.sum(StockMove.value), 0))
        .join(StockMove, (StockMove.reference_type == COMPONENT) & (StockMove.reference_id == WorkOrderComponent.id))
        .where(WorkOrderComponent.work_order_id.in_(order_ids), StockMove.kind == "ISSUE")
        .group_by(WorkOrderComponent.work_order_id)
    )
    return {order_id: value or ZERO for order_id, value in rows}


async def _received(session: AsyncSession, order_ids: list[int]) -> tuple[dict[int, Received], dict[int, Decimal]]:
    """Per order: its PRODUCTION receipts, and Σ of its earlier REVALUATION rows."""
    moves = (
        select(StockMove.reference_id, StockMove.kind, StockMove.quantity_on_hand, StockMove.value,
               StockMove.warehouse_id)
        .where(StockMove.reference_type == WORK_ORDER, StockMove.reference_id.in_(order_ids),
               StockMove.kind.in_(("PRODUCTION", "REVALUATION")))
        .order_by(StockMove.id)
    )
    produced: dict[int, Decimal] = defaultdict(Decimal)
    value: dict[int, Decimal] = defaultdict(Decimal)
    warehouse: dict[int, int] = {}
    revalued: dict[int, Decimal] = defaultdict(Decimal)
    for row in await session.execute(moves):
        if row.kind == "PRODUCTION":
            produced[row.reference_id] += row.quantity_on_hand
            value[row.reference_id] += row.value or ZERO
            warehouse[row.reference_id] = row.warehouse_id  # the latest receipt's
        else:
            revalued[row.reference_id] += row.value or ZERO
    received = {
        order_id: Received(produced[order_id], value[order_id], warehouse.get(order_id)) for order_id in order_ids
    }
    return received, dict(revalued)


async def execute(session: AsyncSession, job_id: int, actor: str | None) -> dict[str, Any]:
    """Cost the work orders of the run of ``job_id``; the figures for the job's message.

    Raises DomainError when the period has nothing to cost any more (the job fails).
    """
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("costing:work_orders"))))
    run = (await session.execute(select(CostingRun).where(CostingRun.job_id == job_id))).scalar_one()
    basis = AllocationBasis(run.allocation_basis)
    # what was checked when it was queued may have changed since (a work order reopened...)
    await check_period(session, run.period_start, run.period_end, basis)
    orders = await _orders(session, run)
    ids = [order.id for order in orders]
    costs = actual.cost_orders(orders, await _material(session, ids), run.overhead_amount, basis)
    received, revalued = await _received(session, ids)
    earlier = {
        row.work_order_id: row.variance
        for row in await session.execute(
            select(WorkOrderCost.work_order_id, WorkOrderCost.variance).where(WorkOrderCost.work_order_id.in_(ids))
        )
    }

    by_item: dict[int, list[CompletedOrder]] = defaultdict(list)
    for order in orders:
        by_item[order.item_id].append(order)
    posted = ZERO
    variance: dict[int, Decimal] = {}
    for item_id in sorted(by_item):  # the lock order of every multi-item movement
        await ledger.lock_balances(session, item_id)
        on_hand = (await ledger.lock_valuation(session, item_id)).quantity
        item_orders = by_item[item_id]
        parts = actual.on_hand_parts(item_orders, {o.id: received[o.id].produced for o in item_orders}, on_hand)
        for order in item_orders:
            got = received[order.id]
            charged = got.value + revalued.get(order.id, ZERO) + earlier.get(order.id, ZERO)
            difference = actual.actual_value(costs[order.id], order.completed_quantity, got.produced) - charged
            split = actual.split(difference, got.produced, parts[order.id])
            moved = None
            if split.revalue != 0 and got.warehouse_id is not None:
                moved = await ledger.revalue(
                    session, item_id=item_id, warehouse_id=got.warehouse_id, amount=split.revalue,
                    reason=f"actual cost of work order {order.id} (costing run {run.id})",
                    reference=ledger.Reference(WORK_ORDER, order.id), actor=actor,
                )
            if moved is None:  # nothing could carry it: all of it is variance
                split = actual.Difference(ZERO, difference)
            revalued[order.id] = revalued.get(order.id, ZERO) + split.revalue
            posted += split.revalue
            variance[order.id] = earlier.get(order.id, ZERO) + split.variance

    rows = [
        {
            "work_order_id": order.id, "costing_run_id": run.id, "weight": costs[order.id].weight,
            "material_cost": costs[order.id].material, "overhead_cost": costs[order.id].overhead,
            "total_cost": costs[order.id].total, "unit_cost": costs[order.id].unit_cost,
            "variance": variance[order.id], "revalued_amount": revalued.get(order.id, ZERO),
        }
        for order in orders
    ]
    upsert = pg_insert(COSTS)
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=[COSTS.c.work_order_id],
            set_={name: upsert.excluded[name] for name in rows[0] if name != "work_order_id"}
            | {"computed_at": func.now()},
        ),
        rows,
    )
    await session.execute(
        update(CostingRun).where(CostingRun.id == run.id)
        .values(completed_at=func.now(), work_orders_costed=len(orders))
    )
    figures = {
        "runId": run.id, "workOrders": len(orders), "overhead": str(run.overhead_amount),
        "material": str(sum((c.material for c in costs.values()), ZERO)),
        "revalued": str(posted), "variance": str(sum((v for v in variance.values()), ZERO)),
        "addedVariance": str(sum((variance[k] - earlier.get(k, ZERO) for k in variance), ZERO)),
    }
    await record_event(session, COSTED, "CostingRun", run.id, figures, actor)
    return figures
