"""Outbound webhook delivery on the workers: fan-out from the relay, the POST, the sweeper.

* :func:`queue_deliveries` (called by the outbox relay for every batch) makes sure each
  subscribed event has its delivery rows and queues the first attempts.
* :func:`deliver_webhook` (an arq job per attempt) claims the delivery, POSTs it signed
  with the ``standardwebhooks`` package, records the attempt and, when the answer calls
  for it, queues the next attempt after the backoff (``_defer_by``).
* :func:`sweep_webhook_deliveries` (cron, every minute) re-queues PENDING deliveries whose
  attempt is overdue: Redis lost the job (a flush, a restart without persistence).

An attempt's arq job id is ``webhook:<message>:<attempt>``: queueing the same attempt
twice (a relay replay, a sweep while the job still waits) is a no-op for arq, and a job
that runs twice finds its attempt made (``webhooks_services.claim``). Results are not
kept, so the id is free again once the job ran and the sweeper can re-queue an attempt
whose job ran without sending it (its worker died holding the lease).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from arq import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook

from domain.integration import webhooks_rules as rules
from domain.integration import webhooks_services as deliveries
from domain.integration.webhooks_services import Claimed, Due, Sent
from domain.shared.db import SessionMaker, make_sessionmaker
from domain.shared.unit_of_work import unit_of_work
from erpgraph.settings import Settings
from workers.jobs import WORKER
from workers.names import DELIVER_WEBHOOK

logger = logging.getLogger(__name__)

# arq's timeout of a delivery job: the POST (ERPGRAPH_WEBHOOK_TIMEOUT_S, at most 30 s) and two
# short transactions fit well inside it
DELIVER_TIMEOUT_S = 60
# a claim holds the delivery longer than the job may run: a live job never loses it
LEASE_S = DELIVER_TIMEOUT_S + 15
# a due attempt not started this long after its time lost its job
SWEEP_GRACE_S = 60.0
SWEEP_BATCH = 500
ERROR_LENGTH = 500
USER_AGENT = "erpgraph-webhooks/1"


def arq_job_id(due: Due) -> str:
    return f"webhook:{due.message_id.hex}:{due.attempt}"


async def enqueue(arq: ArqRedis, due: Due, queue_name: str, defer_s: float = 0.0) -> None:
    """Queue one attempt (a no-op while arq holds that attempt's job)."""
    await arq.enqueue_job(
        DELIVER_WEBHOOK, due.delivery_id, due.attempt, _job_id=arq_job_id(due), _queue_name=queue_name,
        _defer_by=timedelta(seconds=defer_s) if defer_s > 0 else None,
    )


async def queue_deliveries(arq: ArqRedis, engine: AsyncEngine, rows: Sequence[Any], queue_name: str) -> int:
    """The relay's hook: deliveries for the subscribed events of ``rows`` (committed
    ``domain_events`` rows), and their first attempts queued; how many were queued.

    Runs before the relay moves its cursor, so a crash in between fans the batch out again
    (nothing new: rows are unique per endpoint and event, and the attempts already queued
    or made are skipped by arq or by the claim).
    """
    async with make_sessionmaker(engine).begin() as session:
        due = await deliveries.fan_out(session, rows)
    for each in due:
        await enqueue(arq, each, queue_name)
    return len(due)


def _sign(claimed: Claimed, payload: str) -> dict[str, str]:
    """The Standard Webhooks headers; the package signs (``v1,`` + HMAC-SHA256 of id.timestamp.body)."""
    now = datetime.now(UTC)  # the package reads the datetime as UTC whatever its zone
    return {
        "webhook-id": claimed.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(claimed.secret).sign(claimed.message_id, now, payload),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


async def _post(claimed: Claimed, timeout_s: float) -> Sent:
    payload = rules.body(claimed.event_type, claimed.occurred_at, claimed.data)
    attempted_at = datetime.now(UTC)
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        # no redirects: the endpoint is the URL registered, not where it points elsewhere
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
            response = await client.post(claimed.url, content=payload.encode(), headers=_sign(claimed, payload))
        status = response.status_code
    except httpx.TimeoutException:
        error = f"timeout: no answer within {timeout_s:g} s"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
    duration_ms = round((time.monotonic() - started) * 1000)
    return Sent(attempted_at, duration_ms, status, error)


async def deliver_webhook(ctx: dict[str, Any], delivery_id: int, attempt: int) -> str:
    """arq job: make attempt number ``attempt`` of a delivery; how it ended.

    Nothing is sent when that attempt is not due (made already, the delivery finished or
    deleted, another worker sending it).
    """
    sessionmaker: SessionMaker = ctx["sessionmaker"]
    settings: Settings = ctx["settings"]
    async with unit_of_work(sessionmaker, actor=WORKER) as uow:
        claimed = await deliveries.claim(uow.session, delivery_id, attempt, LEASE_S)
    if claimed is None:
        logger.info("webhook delivery %s: attempt %s is not due; nothing sent", delivery_id, attempt)
        return "skipped"
    sent = await _post(claimed, settings.webhook_timeout_s)
    async with unit_of_work(sessionmaker, actor=WORKER) as uow:
        recorded = await deliveries.record(
            uow.session, claimed, sent, max_attempts=settings.webhook_max_attempts,
            backoff_s=settings.webhook_backoff_s, backoff_max_s=settings.webhook_backoff_max_s,
        )
    if recorded is None:
        logger.warning("webhook delivery %s: lease lost during attempt %s; not recorded", delivery_id, attempt)
        return "lost"
    logger.info("webhook delivery %s attempt %s: %s -> %s", delivery_id, attempt,
                sent.http_status or sent.error, recorded.status)
    if recorded.retry is not None:
        # lost if Redis fails now: the sweeper finds the attempt overdue and queues it
        await enqueue(ctx["redis"], recorded.retry, ctx["relay"].queue_name, recorded.retry_in_s)
    return recorded.status.value


async def sweep_webhook_deliveries(ctx: dict[str, Any]) -> int:
    """cron: queue again every overdue attempt of a PENDING delivery; how many."""
    sessionmaker: SessionMaker = ctx["sessionmaker"]
    async with unit_of_work(sessionmaker, actor=WORKER) as uow:
        overdue = await deliveries.overdue(uow.session, SWEEP_GRACE_S, SWEEP_BATCH)
    for due in overdue:
        await enqueue(ctx["redis"], due, ctx["relay"].queue_name)
    if overdue:
        logger.info("re-queued %s overdue webhook attempts", len(overdue))
    return len(overdue)
