"""The ``run_costing`` arq job: claim the job row, cost the period's work orders, finish.

The work is one transaction (``domain.costing.services.execute``); progress and the
heartbeat are reported on their own (``workers.jobs.run_job``).

Failure modes:

- an exception (the period has nothing to cost any more, a database error): the
  transaction rolls back, the job is FAILED with the error;
- the worker is killed: the transaction dies with its connection, the job row stays
  RUNNING until its heartbeat is stale; arq re-runs the job, which claims the row again
  while it is still RUNNING and gives the same results (the run is idempotent).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from domain.costing import services as costing
from domain.shared.db import SessionMaker
from domain.shared.money import cents
from domain.shared.unit_of_work import unit_of_work
from workers.jobs import WORKER, Reporter, run_job

logger = logging.getLogger(__name__)

COSTING_TIMEOUT_S = 1800


async def run_costing(ctx: dict[str, Any], job_id: int) -> dict[str, Any] | None:
    """arq entry point (queued by the outbox relay under ``domain.jobs.services.arq_job_id``)."""
    sessionmaker: SessionMaker = ctx["sessionmaker"]

    async def work(reporter: Reporter) -> dict[str, Any]:
        await reporter(0.05, "costing the work orders completed in the period")
        async with unit_of_work(sessionmaker, actor=WORKER) as uow:
            return await costing.execute(uow.session, job_id, WORKER)

    def summary(figures: dict[str, Any]) -> str:
        return (
            f"costed {figures['workOrders']:,} work orders: overhead {figures['overhead']} allocated; "
            f"{cents(Decimal(figures['revalued']))} revalued on stock and "
            f"{cents(Decimal(figures['addedVariance']))} added to variance by this run "
            f"(variance {cents(Decimal(figures['variance']))} in all)"
        )

    return await run_job(ctx, job_id, work, summary)
