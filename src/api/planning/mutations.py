from __future__ import annotations

import logging
from datetime import date
from typing import Any

import strawberry

from api.context import Info
from api.permissions import command
from api.planning.inputs import MrpRunInput
from api.planning.types import FirmPlannedOrdersPayload, MrpRun, MrpRunPayload
from api.production.types import WorkOrder
from api.purchasing.types import PurchaseOrder
from api.relay import decode_id
from domain.identity.scopes import Scope
from domain.jobs import services as jobs
from domain.jobs.models import Job
from domain.planning import services
from domain.planning.firming import firm_planned_orders
from domain.shared.errors import DomainError, ErrorCode, Problem
from workers.names import RUN_MRP

logger = logging.getLogger(__name__)


async def enqueue(info: Info, job: Job) -> None:
    """Queue the arq job of a QUEUED row; a no-op when arq already holds it.

    Re-enqueueing a QUEUED job on every ``runMrp`` also recovers one whose queue
    entry was lost (Redis restarted, or the API died between commit and enqueue).
    """
    resources: Any = info.context.request.app.state.resources
    try:
        await resources.jobs.enqueue_job(
            RUN_MRP, job.id, _job_id=jobs.arq_job_id(job), _queue_name=info.context.settings.queue_name
        )
    except Exception as exc:
        logger.error("job %s could not be queued: %s", job.id, exc)
        await jobs.fail_queued(info.context.sessionmaker, job.id, f"could not be queued: {exc}")
        raise DomainError.one(ErrorCode.CONFLICT, "the job queue is unavailable; retry later") from None


@strawberry.type
class PlanningMutation:
    @strawberry.mutation(description="Queues an MRP run on the workers; follow it with jobProgress or mrpRun.")
    @command(Scope.PLANNING_WRITE)
    async def run_mrp(self, info: Info, input: MrpRunInput | None = None) -> MrpRunPayload:
        request = (input or MrpRunInput()).to_domain()
        async with info.context.sessionmaker.begin() as session:
            started = await services.start_run(
                session, request, today=date.today(), actor=info.context.viewer.name,
                stale_after_s=info.context.settings.job_stale_after_s,
            )
        if started.job.status == "QUEUED":
            await enqueue(info, started.job)
        return MrpRunPayload(run=MrpRun.from_row(started.run))

    @strawberry.mutation(
        description=(
            "Turns planned orders into purchase/work orders; merge=true combines orders of one item "
            "(and supplier) into one document."
        )
    )
    @command(Scope.PLANNING_WRITE)
    async def firm_planned_orders(
        self, info: Info, ids: list[strawberry.ID], merge: bool | None = None
    ) -> FirmPlannedOrdersPayload:
        pks = _planned_order_pks(ids)
        async with info.context.sessionmaker.begin() as session:
            firmed = await firm_planned_orders(session, pks, bool(merge), actor=info.context.viewer.name)
        return FirmPlannedOrdersPayload(
            purchase_orders=[PurchaseOrder.from_row(row) for row in firmed.purchase_orders],
            work_orders=[WorkOrder.from_row(row) for row in firmed.work_orders],
        )


def _planned_order_pks(ids: list[strawberry.ID]) -> list[int]:
    """Planned order pks of ``ids``; a DomainError names every id that is not one."""
    pks: list[int] = []
    problems: list[Problem] = []
    for i, global_id in enumerate(ids):
        try:
            pks.append(decode_id(global_id, "PlannedOrder", "ids", str(i)))
        except DomainError as error:
            problems.extend(error.problems)
    if problems:
        raise DomainError(problems)
    return pks
