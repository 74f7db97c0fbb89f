"""Running a job row on the worker: claim it, report progress and a heartbeat, finish it.

Every job function (MRP, costing, the roll-up) has the same frame, ``run_job``: claim the
row (a job finished already is not run again: arq runs jobs at least once), publish its
state, keep a heartbeat while the work runs, and finish SUCCEEDED with a summary or
FAILED with the error. A ``DomainError`` is an expected refusal and its message is the
error as it is; anything else is logged with its traceback. The work itself stores its
results in PostgreSQL in its own transaction, so a job that fails or whose worker dies
leaves nothing half-done and can run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from domain.jobs import services as jobs
from domain.jobs.services import JOB_PROGRESS, JobState
from domain.shared.db import SessionMaker, asyncpg_dsn
from domain.shared.errors import DomainError
from domain.shared.unit_of_work import unit_of_work

logger = logging.getLogger(__name__)

HEARTBEAT_S = 5.0
WORKER = "worker"  # the actor of the job row's own state changes

Figures = dict[str, Any]


def encode_progress(state: JobState) -> str:
    """The pub/sub message for a job's state (same envelope as relayed domain events)."""
    return json.dumps(
        {
            "type": JOB_PROGRESS,
            "entityType": "Job",
            "entityId": state.id,
            "payload": {
                "kind": state.kind,
                "status": state.status,
                "progress": state.progress,
                "message": state.message,
                "error": state.error,
                "createdAt": state.created_at.isoformat(),
                "startedAt": state.started_at.isoformat() if state.started_at else None,
                "finishedAt": state.finished_at.isoformat() if state.finished_at else None,
            },
            "occurredAt": datetime.now(UTC).isoformat(),
            # not a domain event: it has no position in the event order
            "position": "0:0",
        },
        separators=(",", ":"),
    )


class Reporter:
    """Stores progress on the job row and publishes it; never fails the job itself."""

    def __init__(self, sessionmaker: SessionMaker, redis: Redis, channel: str, job_id: int) -> None:
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.channel = channel
        self.job_id = job_id

    async def publish(self, state: JobState | None) -> None:
        if state is None:
            return
        try:
            await self.redis.publish(self.channel, encode_progress(state))
        except Exception as exc:  # subscribers re-read the row; a lost message costs nothing
            logger.warning("job %s: progress not published: %s", self.job_id, exc)

    async def __call__(self, progress: float, message: str) -> None:
        logger.info("job %s: %3.0f%% %s", self.job_id, progress * 100, message)
        async with unit_of_work(self.sessionmaker, actor=WORKER) as uow:
            state = await jobs.report(uow.session, self.job_id, progress, message)
        await self.publish(state)

    async def finish(self, *, error: str | None = None, message: str | None = None) -> None:
        async with unit_of_work(self.sessionmaker, actor=WORKER) as uow:
            state = await jobs.finish(uow.session, self.job_id, error=error, message=message)
        await self.publish(state)

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            with contextlib.suppress(Exception):
                async with unit_of_work(self.sessionmaker, actor=WORKER) as uow:
                    await jobs.report(uow.session, self.job_id)


def job_dsn(ctx: dict[str, Any]) -> str:
    """The asyncpg DSN of the worker's database, for jobs that move rows with COPY."""
    database_url = ctx["settings"].database_url
    assert database_url is not None  # the worker refuses to start without it
    return asyncpg_dsn(database_url)


async def run_job(
    ctx: dict[str, Any],
    job_id: int,
    work: Callable[[Reporter], Awaitable[Figures]],
    summary: Callable[[Figures], str],
) -> Figures | None:
    """Claim job ``job_id``, run ``work`` with its reporter, finish it; the figures, or None
    when the job was finished already or failed."""
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
        figures = await work(reporter)
    except DomainError as exc:
        await reporter.finish(error=str(exc))
        return None
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        await reporter.finish(error=f"{type(exc).__name__}: {exc}")
        return None
    finally:
        heartbeat.cancel()
    await reporter.finish(message=summary(figures))
    return figures
