"""Starting an MRP run: one at a time, validated, recorded before it is queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.jobs import services as jobs
from domain.jobs.models import Job, JobStatus
from domain.planning.models import MrpRun
from domain.shared.errors import Problems

MRP = "MRP"
DEFAULT_HORIZON_DAYS = 180
MAX_HORIZON_DAYS = 3 * 366


@dataclass(frozen=True)
class RunRequest:
    start_date: date | None = None
    horizon_days: int | None = None
    forecast_min_probability: int | None = None


@dataclass(frozen=True)
class Started:
    run: MrpRun
    job: Job
    created: bool  # False: a run was already queued or running and is returned instead
    # names the parameters given that differ from the returned run's (they were not used)
    differing: tuple[str, ...] = ()


def _differing(request: RunRequest, run: MrpRun) -> tuple[str, ...]:
    """The request's given parameters that the existing ``run`` does not have."""
    given = {
        "startDate": (request.start_date, run.start_date),
        "horizonDays": (request.horizon_days, run.horizon_days),
        "forecastMinProbability": (request.forecast_min_probability, run.forecast_min_probability),
    }
    return tuple(name for name, (asked, kept) in given.items() if asked is not None and asked != kept)


def _check(request: RunRequest) -> None:
    problems = Problems()
    if request.horizon_days is not None and not 1 <= request.horizon_days <= MAX_HORIZON_DAYS:
        problems.invalid(f"must be between 1 and {MAX_HORIZON_DAYS} days", "horizonDays")
    probability = request.forecast_min_probability
    if probability is not None and not 0 <= probability <= 100:
        problems.invalid("must be between 0 and 100", "forecastMinProbability")
    if request.start_date is not None and not 2000 <= request.start_date.year <= 2200:
        problems.invalid("must lie between the years 2000 and 2200", "startDate")
    problems.raise_if_any()


async def start_run(
    session: AsyncSession,
    request: RunRequest,
    *,
    today: date,
    actor: str | None,
    stale_after_s: float,
    queue_name: str,
) -> Started:
    """Record a QUEUED MRP job and its run, or return the run already queued or running.

    A running job whose worker stopped reporting is marked FAILED first, so a lost
    worker never blocks planning. A QUEUED job, new or found, is (re)queued on
    ``queue_name`` through the outbox; queueing it again also recovers a queue entry
    Redis lost.
    """
    _check(request)
    await jobs.lock_kind(session, MRP)
    current = await jobs.active(session, MRP)
    if current is not None and not await jobs.fail_if_stale(session, current, stale_after_s):
        existing = (await session.execute(select(MrpRun).where(MrpRun.job_id == current.id))).scalar_one()
        if current.status == JobStatus.QUEUED:
            await jobs.queue(session, current, queue_name=queue_name, actor=actor)
        return Started(existing, current, created=False, differing=_differing(request, existing))
    start = request.start_date or today
    horizon = request.horizon_days or DEFAULT_HORIZON_DAYS
    job = await jobs.create(
        session,
        MRP,
        {"startDate": start.isoformat(), "horizonDays": horizon,
         "forecastMinProbability": request.forecast_min_probability},
        actor,
    )
    run = MrpRun(
        job_id=job.id, start_date=start, horizon_days=horizon,
        forecast_min_probability=request.forecast_min_probability,
    )
    session.add(run)
    await session.flush()
    await jobs.queue(session, job, queue_name=queue_name, actor=actor)
    return Started(run, job, created=True)
