"""The ``run_costing`` arq job: claim the job row, cost the period's work orders, finish.

The work is one transaction (``domain.costing.services.execute``); progress and the
heartbeat are reported on their own, as for MRP (``workers.mrp.Reporter``).

Failure modes:

- an exception (the period has nothing to cost any more, a database error): the
  transaction rolls back, the job is FAILED with the error;
- the worker is killed: the transaction dies with its connection, the job row stays
  RUNNING until its heartbeat is stale; arq re-runs the job, which claims the row again
  while it is still RUNNING and gives the same results (the run is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from domain.costing import services as costing
from domain.jobs import services as jobs
from domain.jobs.services import JobState
from domain.shared.db import SessionMaker
from domain.shared.errors import DomainError
from domain.shared.unit_of_work import unit_of_work
from workers.mrp import WORKER, Reporter

logger = logging.getLogger(__name__)

COSTING_TIMEOUT_S = 1800


async def run_costing(ctx: dict[str, Any], job_id: int) -> dict[str, Any] | None:
    """arq entry point (queued by the outbox relay under ``domain.jobs.services.arq_job_id``)."""
    sessionmaker: SessionMaker = ctx["sessionmaker"]
    reporter = Reporter(sessionmaker, ctx["redis"], ctx["relay"].channel, job_id)
    async with unit_of_work(sessionmaker, actor=WORKER) as uow:
        claimed = await jobs.claim(uow.session, job_id)
    if claimed is None:
        logger.info("job %s is finished already; not run again", job_id)
        return None
    await reporter.publish(JobState.of(claimed))
    heartbeat = asyncio.create_task(reporter.heartbeat(), name=f"job-{job_id}-heartbeat")
    try:
        await reporter(0.05, "costing the work orders completed in the period")
        async with unit_of_work(sessionmaker, actor=WORKER) as uow:
            figures = await costing.execute(uow.session, job_id, WORKER)
    except DomainError as exc:
        await reporter.finish(error=str(exc))
        return None
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        await reporter.finish(error=f"{type(exc).__name__}: {exc}")
        return None
    finally:
        heartbeat.cancel()
    await reporter.finish(message=(
        f"costed {figures['workOrders']:,} work orders: overhead {figures['overhead']} allocated, "
        f"{figures['revalued']} revalued on stock, variance {figures['variance']}"
    ))
    return figures
