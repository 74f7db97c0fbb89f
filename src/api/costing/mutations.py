from __future__ import annotations

import strawberry

from api.costing.inputs import CostingRunInput, SimulateQuoteInput
from api.costing.rollup_types import QuoteSimulation, QuoteSimulationPayload
from api.permissions import Command, command
from api.planning.types import Job, JobPayload
from domain.costing import runs
from domain.costing.simulation import simulate_quote
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

    @strawberry.mutation(description=(
        "Queues the BOM cost roll-up of every item on the workers (Item.rolledUpCost); follow it with "
        "jobProgress or job. While one is queued or running, that job is returned instead."
    ))
    @command(Scope.COSTING_WRITE)
    async def run_cost_rollup(self, cmd: Command) -> JobPayload:
        started = await runs.start_rollup(
            cmd.session, actor=cmd.actor, stale_after_s=cmd.settings.job_stale_after_s,
            queue_name=cmd.settings.queue_name,
        )
        return JobPayload(job=Job.from_row(started.job))

    @strawberry.mutation(description=(
        "Prices lines for a target margin from the costs of now (a made item's BOM roll-up, as "
        "Item.bomCost; a bought item's unit cost now) and saves nothing. Checked as a quote's lines are. "
        "Needs pricing:simulate (the company's sales and finance, not partners: a price at a known "
        "margin reveals the cost)."
    ))
    @command(Scope.PRICING_SIMULATE)
    async def simulate_quote(self, cmd: Command, input: SimulateQuoteInput) -> QuoteSimulationPayload:
        request = input.to_domain()
        result = await simulate_quote(cmd.session, request)
        return QuoteSimulationPayload(
            simulation=QuoteSimulation.of(request.customer_id, request.target_margin_percent, result)
        )
