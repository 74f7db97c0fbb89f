from __future__ import annotations

import strawberry

from api.errors import UserError
from api.permissions import Command, command
from api.planning.inputs import MrpRunInput
from api.planning.types import FirmPlannedOrdersPayload, MrpRun, MrpRunPayload
from api.production.types import WorkOrder
from api.purchasing.types import PurchaseOrder
from api.relay import decode_ids, to_global_id
from domain.identity.scopes import Scope
from domain.jobs.models import JobStatus
from domain.planning import services
from domain.planning.firming import firm_planned_orders
from domain.shared.errors import ErrorCode


@strawberry.type
class PlanningMutation:
    @strawberry.mutation(description=(
        "Queues an MRP run on the workers; follow it with jobProgress or mrpRun. While a run is queued "
        "or running, that run is returned instead, with a CONFLICT error if other parameters were given."
    ))
    @command(Scope.PLANNING_WRITE)
    async def run_mrp(self, cmd: Command, input: MrpRunInput | None = None) -> MrpRunPayload:
        request = (input or MrpRunInput()).to_domain()
        started = await services.start_run(
            cmd.session, request, today=cmd.today, actor=cmd.actor,
            stale_after_s=cmd.settings.job_stale_after_s, queue_name=cmd.settings.queue_name,
        )
        return MrpRunPayload(run=MrpRun.from_row(started.run), errors=_kept_parameters(started))

    @strawberry.mutation(
        description=(
            "Turns planned orders into purchase/work orders; merge=true combines orders of one item "
            "(and supplier) into one document."
        )
    )
    @command(Scope.PLANNING_WRITE)
    async def firm_planned_orders(
        self, cmd: Command, ids: list[strawberry.ID], merge: bool | None = None
    ) -> FirmPlannedOrdersPayload:
        pks = decode_ids(ids, "PlannedOrder", "ids")
        firmed = await firm_planned_orders(cmd.session, pks, bool(merge), actor=cmd.actor)
        return FirmPlannedOrdersPayload(
            purchase_orders=[PurchaseOrder.from_row(row) for row in firmed.purchase_orders],
            work_orders=[WorkOrder.from_row(row) for row in firmed.work_orders],
        )


def _kept_parameters(started: services.Started) -> list[UserError]:
    """A CONFLICT naming the run already under way when the request asked for other parameters."""
    if not started.differing:
        return []
    status = "queued" if started.job.status == JobStatus.QUEUED else "running"
    kept = started.run
    probability = "none" if kept.forecast_min_probability is None else kept.forecast_min_probability
    return [UserError(
        code=ErrorCode.CONFLICT, field=["input"],
        message=(
            f"MRP run {to_global_id('MrpRun', kept.id)} is already {status}; its parameters were kept (startDate "
            f"{kept.start_date.isoformat()}, horizonDays {kept.horizon_days}, forecastMinProbability "
            f"{probability}) and {', '.join(started.differing)} of this request "
            "were not used; run MRP again once it has finished"
        ),
    )]
