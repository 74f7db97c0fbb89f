"""Starting costing jobs: an actual-costing run of a period, and the all-items roll-up.

Each is validated, recorded and queued through the outbox.

Like MRP (``domain.planning.services.start_run``): the mutation records a QUEUED job
(kind ``COSTING``) and its run, and a ``job.queued`` event in the same transaction;
the relay hands it to the worker (``workers.costing_runs``). Everything the run needs
is checked here, so a request that could not succeed is refused with nothing queued.
The same request while an equal one is still queued or running returns that job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.costing.models import COST_ROLLUP, AllocationBasis, CostingRun
from domain.jobs import services as jobs
from domain.jobs.models import ACTIVE_STATUSES, Job, JobStatus
from domain.production.models import WorkOrder, WorkOrderStatus
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.numbers import check_decimal, quantity_text

COSTING = "COSTING"
# a work order is costed in the period of the day it completed, once it is done
COSTED_STATUSES = (WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED)


@dataclass(frozen=True)
class CostingRequest:
    overhead_amount: Decimal
    period_start: date
    period_end: date
    allocation_basis: AllocationBasis

    def params(self) -> dict[str, str]:
        return {
            "overheadAmount": f"{self.overhead_amount:.2f}", "periodStart": self.period_start.isoformat(),
            "periodEnd": self.period_end.isoformat(), "allocationBasis": self.allocation_basis.value,
        }


@dataclass(frozen=True)
class Started:
    run: CostingRun
    job: Job
    created: bool  # False: an equal request was queued or running already


def completed_in(start: date, end: date) -> list[ColumnElement[bool]]:
    """The WHERE clause of the work orders a run of [start, end] costs."""
    return [
        WorkOrder.status.in_(COSTED_STATUSES),
        WorkOrder.completed_on >= start,
        WorkOrder.completed_on <= end,
    ]


def _check(request: CostingRequest) -> None:
    problems = Problems()
    check_decimal(problems, request.overhead_amount, "overheadAmount", places=2, non_negative=True,
                  label="overhead amount")
    for name, day in (("periodStart", request.period_start), ("periodEnd", request.period_end)):
        if not 2000 <= day.year <= 2200:
            problems.invalid("must lie between the years 2000 and 2200", name)
    if request.period_end < request.period_start:
        problems.invalid("the period must not end before it starts", "periodEnd")
    problems.raise_if_any()


async def check_period(
    session: AsyncSession, start: date, end: date, basis: AllocationBasis, field: str = "periodStart"
) -> None:
    """Refuse a period with no completed work order, or no hours to allocate by (INVALID)."""
    count, hours = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(WorkOrder.labor_hours), 0)).where(*completed_in(start, end))
        )
    ).one()
    if count == 0:
        raise DomainError.one(
            ErrorCode.INVALID,
            f"no work order was completed between {start.isoformat()} and {end.isoformat()}: nothing to cost",
            [field],
        )
    if basis == AllocationBasis.LABOR_HOURS and hours <= 0:
        raise DomainError.one(
            ErrorCode.INVALID,
            f"no labour hours were reported on the {count} work order(s) completed in the period "
            f"(total {quantity_text(hours)}): overhead cannot be allocated by LABOR_HOURS",
            ["allocationBasis"],
        )


async def start_run(
    session: AsyncSession, request: CostingRequest, *, actor: str | None, stale_after_s: float, queue_name: str
) -> Started:
    """Record a QUEUED costing job and its run (or return an equal one still under way)."""
    _check(request)
    await check_period(session, request.period_start, request.period_end, request.allocation_basis)
    await jobs.lock_kind(session, COSTING)
    params = request.params()
    same = (
        await session.execute(
            select(Job, CostingRun).join(CostingRun, CostingRun.job_id == Job.id)
            .where(Job.kind == COSTING, Job.status.in_(ACTIVE_STATUSES), Job.params == params)
            .order_by(Job.id).limit(1)
        )
    ).one_or_none()
    if same is not None and not await jobs.fail_if_stale(session, same.Job, stale_after_s):
        if same.Job.status == JobStatus.QUEUED:
            await jobs.queue(session, same.Job, queue_name=queue_name, actor=actor)
        return Started(same.CostingRun, same.Job, created=False)
    job = await jobs.create(session, COSTING, dict(params), actor)
    run = CostingRun(
        job_id=job.id, period_start=request.period_start, period_end=request.period_end,
        overhead_amount=request.overhead_amount, allocation_basis=request.allocation_basis.value,
    )
    session.add(run)
    await session.flush()
    await jobs.queue(session, job, queue_name=queue_name, actor=actor)
    return Started(run, job, created=True)


@dataclass(frozen=True)
class RollupStarted:
    job: Job
    created: bool  # False: a roll-up was already queued or running and is returned instead


async def start_rollup(
    session: AsyncSession, *, actor: str | None, stale_after_s: float, queue_name: str
) -> RollupStarted:
    """Record a QUEUED roll-up job, or return the one already queued or running.

    As for MRP (``domain.planning.services.start_run``): starts are serialised by the
    kind's advisory lock, a running job whose worker stopped reporting is marked FAILED
    first, and a QUEUED job, new or found, is (re)queued through the outbox.
    """
    await jobs.lock_kind(session, COST_ROLLUP)
    current = await jobs.active(session, COST_ROLLUP)
    if current is not None and not await jobs.fail_if_stale(session, current, stale_after_s):
        if current.status == JobStatus.QUEUED:
            await jobs.queue(session, current, queue_name=queue_name, actor=actor)
        return RollupStarted(current, created=False)
    job = await jobs.create(session, COST_ROLLUP, {}, actor)
    await jobs.queue(session, job, queue_name=queue_name, actor=actor)
    return RollupStarted(job, created=True)
