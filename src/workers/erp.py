"""The ERP writeback on the workers: one job per attempt, the sweeper, and ``retrySync`` jobs.

The state machine is ``domain.integration.erp.sync``; this module gives it a connector,
queues the jobs it asks for, and runs it from arq. The connector (one HTTP session to
the ERP) is made at worker start-up when the ERP is configured and shared by the jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from arq import ArqRedis
from redis.asyncio import Redis

from domain.integration.erp import sync
from domain.integration.erp.connector import ErpConnector
from domain.integration.erp.sync import Due, Outcome, Policy
from domain.jobs.models import Job
from domain.shared.db import SessionMaker
from domain.shared.errors import DomainError, ErrorCode
from erpgraph.settings import Settings
from workers.jobs import Reporter, run_job
from workers.names import ERP_SYNC

logger = logging.getLogger(__name__)

ERP_SYNC_TIMEOUT_S = 120
SWEEP_TIMEOUT_S = 60


def make_connector(settings: Settings) -> ErpConnector | None:
    """The configured ERP's connector, or None when the writeback is off."""
    if not settings.tryton_url:
        return None
    from domain.integration.erp.tryton import TrytonConnector

    return TrytonConnector.from_settings(settings)


def policy(settings: Settings) -> Policy:
    return Policy(
        max_attempts=settings.sync_max_attempts, backoff_s=settings.sync_backoff_s,
        backoff_max_s=settings.sync_backoff_max_s,
    )


async def enqueue(redis: Redis, dues: Sequence[Due], queue_name: str) -> None:
    """Queue one ``erp_sync`` job per row (arq ignores an id it holds already)."""
    if not dues:
        return
    arq = redis if isinstance(redis, ArqRedis) else ArqRedis(connection_pool=redis.connection_pool)
    for due in dues:
        await arq.enqueue_job(
            ERP_SYNC, due.ref_id, due.seq, _job_id=due.job_id, _queue_name=queue_name,
            _defer_by=due.delay_s or None,
        )


def _queue_name(ctx: dict[str, Any]) -> str:
    return str(ctx["relay"].queue_name)


async def _attempt(ctx: dict[str, Any], ref_id: int, seq: int) -> Outcome:
    connector: ErpConnector | None = ctx.get("erp")
    if connector is None:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, "the ERP writeback is off on this worker (no ERPGRAPH_TRYTON_URL)"
        )
    outcome = await sync.sync(ctx["engine"], ctx["sessionmaker"], connector, ref_id, seq, policy(ctx["settings"]))
    try:
        await enqueue(ctx["redis"], outcome.follow_ups, _queue_name(ctx))
    except Exception as exc:  # the rows are due in PostgreSQL: the sweeper queues them
        logger.warning("writeback retries not queued (the sweeper will): %s", exc)
    return outcome


async def erp_sync(ctx: dict[str, Any], ref_id: int, seq: int) -> str:
    """arq entry point: one attempt at one writeback row; the row's status afterwards."""
    outcome = await _attempt(ctx, ref_id, seq)
    if outcome.error:
        logger.info("writeback %s (seq %s): %s: %s", ref_id, seq, outcome.status, outcome.error)
    return outcome.status


async def sweep_writeback(ctx: dict[str, Any]) -> int:
    """cron: re-queue writeback rows whose job was lost (Redis flushed, worker killed); how many."""
    settings: Settings = ctx["settings"]
    system = settings.writeback_system
    if system is None:
        return 0
    sessionmaker: SessionMaker = ctx["sessionmaker"]
    async with sessionmaker.begin() as session:
        dues = await sync.sweep(session, system, settings.sync_sweep_grace_s)
    await enqueue(ctx["redis"], dues, _queue_name(ctx))
    if dues:
        logger.info("writeback sweeper re-queued %d rows", len(dues))
    return len(dues)


async def run_erp_sync(ctx: dict[str, Any], job_id: int) -> dict[str, Any] | None:
    """arq entry point of a ``retrySync`` job: one attempt now, reported on the job row."""
    sessionmaker: SessionMaker = ctx["sessionmaker"]

    async def work(reporter: Reporter) -> dict[str, Any]:
        async with sessionmaker() as session:
            job = await session.get(Job, job_id)
        assert job is not None  # run_job claimed it
        label = job.params["label"]
        await reporter(0.1, f"writing {label} to the ERP")
        outcome = await _attempt(ctx, job.params["refId"], job.params["seq"])
        if outcome.status in ("PENDING", "FAILED"):
            retrying = " (retrying with backoff)" if outcome.status == "PENDING" else ""
            raise DomainError.one(ErrorCode.INVALID_STATE, f"{label}: {outcome.error}{retrying}")
        return {"label": label, "status": outcome.status, "externalId": outcome.external_id}

    def summary(figures: dict[str, Any]) -> str:
        if figures["status"] == "SYNCED":
            return f"{figures['label']} written to the ERP (id {figures['externalId']})"
        return f"{figures['label']}: nothing to do (already written, or scheduled again)"

    return await run_job(ctx, job_id, work, summary)
