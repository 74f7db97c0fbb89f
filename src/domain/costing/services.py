"""Starting the all-items cost roll-up: one at a time, recorded before it is queued."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from domain.costing.models import COST_ROLLUP
from domain.jobs import services as jobs
from domain.jobs.models import Job, JobStatus


@dataclass(frozen=True)
class Started:
    job: Job
    created: bool  # False: a roll-up was already queued or running and is returned instead


async def start_rollup(
    session: AsyncSession, *, actor: str | None, stale_after_s: float, queue_name: str
) -> Started:
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
        return Started(current, created=False)
    job = await jobs.create(session, COST_ROLLUP, {}, actor)
    await jobs.queue(session, job, queue_name=queue_name, actor=actor)
    return Started(job, created=True)
