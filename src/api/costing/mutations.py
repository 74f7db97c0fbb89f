from __future__ import annotations

import strawberry

from api.costing.inputs import CostingRunInput
from api.permissions import Command, command
from api.planning.types import Job, JobPayload
from domain.costing import runs
from domain.identity.scopes import Scope


@strawberry.type
class CostingMutation:
    @strawberry.mutation(description=(
        "Queues actual costing of the work orders completed in the period. Follow it with jobProgress "
        "or job; the results are each work order's cost. Re-running a period replaces its results; "
        "while an equal run is queued or running, that job is returned."
    ))
    @command(Scope.COSTING_WRITE)
    async def run_costing(self, cmd: Command, input: CostingRunInput) -> JobPayload:
        started = await runs.start_run(
            cmd.session, input.to_domain(), actor=cmd.actor,
            stale_after_s=cmd.settings.job_stale_after_s, queue_name=cmd.settings.queue_name,
        )
        return JobPayload(job=Job.from_row(started.job))
