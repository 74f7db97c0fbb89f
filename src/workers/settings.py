"""The arq worker: its jobs, the relay cron, and the resources jobs share through ctx.

``ctx`` holds ``settings``, ``redis`` (set by arq), ``engine``, ``sessionmaker`` and
``relay`` (the :class:`~workers.outbox.RelayConfig`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from functools import partial
from typing import Any

from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.worker import Function, Worker, func

import domain.shared.models  # noqa: F401  # every mapped class, so the ORM can configure (FKs reach across contexts)
from domain.shared.db import asyncpg_dsn, make_engine, make_sessionmaker
from domain.shared.limits import set_max_lines
from erpgraph.settings import Settings
from workers.costing import ROLLUP_TIMEOUT_S, run_cost_rollup
from workers.costing_runs import COSTING_TIMEOUT_S, run_costing
from workers.erp import (
    ERP_SYNC_TIMEOUT_S,
    SWEEP_TIMEOUT_S,
    erp_sync,
    make_connector,
    run_erp_sync,
    sweep_writeback,
)
from workers.housekeeping import purge_idempotency_keys
from workers.mrp import MRP_TIMEOUT_S, run_mrp
from workers.names import (
    ALLOCATE_STOCK,
    DELIVER_WEBHOOK,
    ERP_SYNC,
    RUN_COST_ROLLUP,
    RUN_COSTING,
    RUN_ERP_SYNC,
    RUN_MRP,
)
from workers.outbox import RelayConfig, relay, relay_events
from workers.stock import MAX_TRIES, allocate_stock
from workers.wakeup import listen_and_relay
from workers.webhooks import DELIVER_TIMEOUT_S, deliver_webhook, sweep_webhook_deliveries

logger = logging.getLogger(__name__)

RELAY_TIMEOUT_S = 60
ALLOCATE_TIMEOUT_S = 120


def _functions() -> list[Function]:
    return [
        func(relay_events, name="relay_events", max_tries=1, timeout=RELAY_TIMEOUT_S),
        # a re-run after a lost worker claims the job row again (see workers.mrp)
        func(run_mrp, name=RUN_MRP, max_tries=3, timeout=MRP_TIMEOUT_S),
        # idempotent: a re-run after a lost worker gives the same results (see workers.costing_runs)
        func(run_costing, name=RUN_COSTING, max_tries=3, timeout=COSTING_TIMEOUT_S),
        func(run_cost_rollup, name=RUN_COST_ROLLUP, max_tries=3, timeout=ROLLUP_TIMEOUT_S),
        func(allocate_stock, name=ALLOCATE_STOCK, max_tries=MAX_TRIES, timeout=ALLOCATE_TIMEOUT_S),
        # retries are the writeback's own (state in PostgreSQL): arq runs each attempt once,
        # and a result kept for a day keeps a late duplicate of its id out
        func(erp_sync, name=ERP_SYNC, max_tries=1, timeout=ERP_SYNC_TIMEOUT_S, keep_result=86_400),
        func(run_erp_sync, name=RUN_ERP_SYNC, max_tries=3, timeout=ERP_SYNC_TIMEOUT_S),
        # one attempt per job, retried by queueing the next attempt; no result kept, so the sweeper
        # may queue an attempt again under the same id once its job ran (see workers.webhooks)
        func(deliver_webhook, name=DELIVER_WEBHOOK, max_tries=1, timeout=DELIVER_TIMEOUT_S, keep_result=0),
    ]


def _cron_jobs() -> list[CronJob]:
    # CronJob objects keep their next run time, so every worker gets its own.
    return [
        cron(
            relay_events,
            name="cron:relay_events",
            second=set(range(60)),
            unique=True,
            run_at_startup=True,
            max_tries=1,
            timeout=RELAY_TIMEOUT_S,
            keep_result=0,
        ),
        # hourly; unique: one worker of many runs it
        # every minute; unique: one worker of many runs it
        cron(sweep_writeback, name="cron:sweep_writeback", second=30, unique=True, max_tries=1,
             timeout=SWEEP_TIMEOUT_S, keep_result=0),
        cron(purge_idempotency_keys, name="cron:purge_idempotency_keys", minute=17, second=0,
             unique=True, max_tries=1, timeout=RELAY_TIMEOUT_S, keep_result=0),
        # every minute: webhook attempts whose job Redis lost
        cron(sweep_webhook_deliveries, name="cron:sweep_webhook_deliveries", second=41,
             unique=True, max_tries=1, timeout=RELAY_TIMEOUT_S, keep_result=0),
    ]


def worker_settings(
    settings: Settings,
    *,
    relay: RelayConfig | None = None,
    queue_name: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for :class:`arq.worker.Worker` (also accepted by ``arq.run_worker``).

    A fresh dict on every call: the ctx and the cron schedule belong to one worker.
    """
    if not settings.database_url or not settings.redis_url:
        raise ValueError("DATABASE_URL and REDIS_URL are required")
    queue = queue_name or settings.queue_name
    return {
        "functions": _functions(),
        "cron_jobs": _cron_jobs(),
        "queue_name": queue,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "on_startup": startup,
        "on_shutdown": shutdown,
        # the relay queues the work events ask for (stock.freed) on this worker's queue
        "ctx": {
            "settings": settings,
            "relay": replace(relay or RelayConfig(), queue_name=queue, writeback=settings.writeback_system),
        },
    }


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    assert settings.database_url is not None
    set_max_lines(settings.max_lines)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                         statement_timeout_ms=settings.worker_statement_timeout_ms)
    ctx["engine"] = engine
    ctx["sessionmaker"] = make_sessionmaker(engine)
    ctx["erp"] = make_connector(settings)
    ctx["relay_listener"] = asyncio.create_task(
        listen_and_relay(
            asyncpg_dsn(settings.database_url), partial(relay, ctx["redis"], engine, ctx["relay"])
        ),
        name="relay-listener",
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    listener: asyncio.Task[None] | None = ctx.pop("relay_listener", None)
    if listener is not None:
        listener.cancel()
        # wait() rather than await: the listener's CancelledError is expected, ours is not.
        await asyncio.wait({listener})
    erp = ctx.pop("erp", None)
    if erp is not None:
        await erp.aclose()
    engine = ctx.pop("engine", None)
    ctx.pop("sessionmaker", None)
    if engine is not None:
        await engine.dispose()


async def _cancel_jobs(worker: Worker) -> None:
    """Cancel the jobs in flight and wait for them (arq re-queues each for a later worker).

    ``Worker.close`` would cancel them too, but then re-raises their CancelledError from
    its gather, skipping the rest of its clean-up.
    """
    running = [task for task in worker.tasks.values() if not task.done()]
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running)
    worker.tasks = {}  # all done: nothing left for close() to gather (or to re-raise)


async def run_worker(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    relay: RelayConfig | None = None,
    queue_name: str | None = None,
) -> None:
    """Run the worker inside the current event loop (``erpgraph dev``).

    Returns when ``stop`` is set; stops when cancelled; raises if the worker fails to
    start. Jobs in flight are cancelled and connections closed before it returns.
    """
    worker = Worker(
        **worker_settings(settings, relay=relay, queue_name=queue_name), handle_signals=False
    )
    running = asyncio.ensure_future(worker.async_run())
    waiting: set[asyncio.Future[Any]] = {running}
    stopping = asyncio.ensure_future(stop.wait()) if stop is not None else None
    if stopping is not None:
        waiting.add(stopping)
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if stopping is not None:
            stopping.cancel()
        # the polling loop first, so that no job starts after those in flight are cancelled
        running.cancel()
        await asyncio.wait({running})
        try:
            await _cancel_jobs(worker)
            await worker.close()
        finally:
            # close() skips on_shutdown when Redis is gone; shutdown() is idempotent.
            await shutdown(worker.ctx)
    if not running.cancelled():
        running.result()
