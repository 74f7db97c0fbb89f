"""Job lifecycle: queue, claim, report progress, finish; and noticing lost workers.

A job is queued by a ``job.queued`` event written in the transaction that created
it: the outbox relay hands it to arq under the deterministic ``arq_job_id`` once
that transaction has committed, so a process that dies right after the commit
loses nothing, and a queued event relayed twice queues the job once.

Like every service these take the caller's session; the worker commits each state
change on its own (the work a job does runs in its own transaction, so progress is
visible while it runs). A worker reports a heartbeat with each progress report and
on a timer; a RUNNING job whose heartbeat is older than the stale threshold lost
its worker (killed, out of memory, machine gone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.jobs.models import ACTIVE_STATUSES, Job, JobStatus
from domain.shared.events import record_event

ARQ_PREFIX = "job:"
# the outbox event that hands a QUEUED job to the workers (payload: ``QueuedJob``)
JOB_QUEUED = "job.queued"
# published on the event channel by a worker for every change of a job's state
JOB_PROGRESS = "job.progress"
# the outbox event of a job reaching SUCCEEDED or FAILED (payload: kind, status, message,
# error), written with that change: outbound webhooks announce it as job.completed/failed
JOB_FINISHED = "job.finished"
LOST_WORKER = "the worker stopped during the run (killed or crashed); nothing it did was saved"


def arq_job_id(job: Job) -> str:
    """The arq id of a job row: enqueueing the same row twice is a no-op for arq.

    arq keeps job keys and results for a while under this id, whatever the queue, so it
    carries the row's creation time too: a database restored or re-created (ids restart)
    or another deployment sharing the Redis never collides with an old job of the same id.
    """
    return f"{ARQ_PREFIX}{job.id}:{int(job.created_at.timestamp() * 1_000_000)}"


@dataclass(frozen=True, slots=True)
class JobState:
    """What a progress subscriber sees of a job (a plain copy of the row)."""

    id: int
    kind: str
    status: str
    progress: float
    message: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE_STATUSES

    @classmethod
    def of(cls, job: Job) -> JobState:
        return cls(job.id, job.kind, job.status, job.progress, job.message, job.error,
                   job.created_at, job.started_at, job.finished_at)


async def lock_kind(session: AsyncSession, kind: str) -> None:
    """Serialise starts of one job kind until the transaction ends."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"jobs:{kind}"))))


async def active(session: AsyncSession, kind: str) -> Job | None:
    return (
        await session.execute(
            select(Job).where(Job.kind == kind, Job.status.in_(ACTIVE_STATUSES)).order_by(Job.id).limit(1)
        )
    ).scalar_one_or_none()


async def fail_if_stale(session: AsyncSession, job: Job, stale_after_s: float) -> bool:
    """Mark a RUNNING job FAILED when its worker stopped reporting; True if it did."""
    if job.status != JobStatus.RUNNING:
        return False
    stale = (
        await session.execute(
            update(Job)
            .where(
                Job.id == job.id,
                Job.status == JobStatus.RUNNING,
                func.coalesce(Job.heartbeat_at, Job.started_at)
                < func.now() - text("make_interval(secs => :stale)").bindparams(stale=stale_after_s),
            )
            .values(status=JobStatus.FAILED, error=LOST_WORKER, finished_at=func.now())
            .returning(Job.id)
        )
    ).scalar_one_or_none()
    if stale is not None:
        await session.refresh(job)
        await _record_finished(session, JobState.of(job))
    return stale is not None


async def create(session: AsyncSession, kind: str, params: dict[str, Any], actor: str | None) -> Job:
    job = Job(kind=kind, params=params, created_by=actor)
    session.add(job)
    await session.flush()
    return job


async def queue(session: AsyncSession, job: Job, *, queue_name: str, actor: str | None) -> None:
    """Hand a QUEUED job to the workers once the caller's transaction commits.

    Queueing a job again (its arq entry lost with a Redis restart) is harmless: arq
    ignores an id it already holds, and a finished job is never claimed again.
    """
    payload = {"kind": job.kind, "arqJobId": arq_job_id(job), "queue": queue_name}
    await record_event(session, JOB_QUEUED, "Job", job.id, payload, actor)


async def claim(session: AsyncSession, job_id: int) -> Job | None:
    """Move a QUEUED (or, on a re-run after a lost worker, RUNNING) job to RUNNING.

    None when the job is finished already (or gone): the caller must not run it.
    """
    claimed: Job | None = (
        await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(ACTIVE_STATUSES))
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                started_at=func.now(),
                heartbeat_at=func.now(),
                progress=0,
                message="started",
                error=None,
            )
            .returning(Job)
        )
    ).scalar_one_or_none()
    return claimed


async def report(
    session: AsyncSession, job_id: int, progress: float | None = None, message: str | None = None
) -> JobState | None:
    """Record progress (and the heartbeat); None when the job is no longer RUNNING."""
    values: dict[str, Any] = {"heartbeat_at": func.now()}
    if progress is not None:
        values["progress"] = min(max(progress, 0.0), 1.0)
    if message is not None:
        values["message"] = message
    job = (
        await session.execute(
            update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING).values(**values).returning(Job)
        )
    ).scalar_one_or_none()
    return None if job is None else JobState.of(job)


async def finish(
    session: AsyncSession, job_id: int, *, error: str | None = None, message: str | None = None
) -> JobState | None:
    values: dict[str, Any] = {"finished_at": func.now(), "heartbeat_at": func.now()}
    if error is None:
        values.update(status=JobStatus.SUCCEEDED, progress=1.0, message=message or "done")
    else:
        values.update(status=JobStatus.FAILED, error=error, message=message)
    job = (
        await session.execute(
            update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING).values(**values).returning(Job)
        )
    ).scalar_one_or_none()
    if job is None:
        return None
    state = JobState.of(job)
    await _record_finished(session, state)
    return state


async def _record_finished(session: AsyncSession, state: JobState) -> None:
    payload = {"kind": state.kind, "status": state.status, "message": state.message, "error": state.error}
    await record_event(session, JOB_FINISHED, "Job", state.id, payload)
