"""The ``run_mrp`` arq job: claim the job row, load, plan, save, report progress.

The plan is computed in a thread so the worker's event loop (the outbox relay runs
on it too) keeps turning during a long run. Progress is stored on the job row and
published to the event channel as a ``job.progress`` message for ``jobProgress``
subscribers; a timer keeps the heartbeat fresh while nothing else is reported.

The save transaction opens before the load, on a connection of its own: the server
deletes the previous plan (``run.replace_earlier``) on one core while the job loads
and plans on another, and the new plan is written when both are done. It appends no
event, so it is declared eventless (``domain.shared.events``) and does not hold the
relay back for the length of the job. Its row locks on the previous PLANNED orders
are held from the start of the job, so a firm of one of them waits for the run.

Failure modes:

- an exception: the save transaction rolls back, the job is FAILED with the error;
- the worker is killed: the save transaction dies with its connection, the job row
  stays RUNNING until its heartbeat is stale, then the next ``runMrp`` (or a
  ``jobProgress`` subscriber) marks it FAILED. arq re-runs a job whose worker
  vanished; the re-run claims the row again only while it is still RUNNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import date
from typing import Any

import asyncpg
from sqlalchemy import select

from domain.planning import plan
from domain.planning import run as planning
from domain.planning.models import MrpRun
from domain.shared.db import SessionMaker
from domain.shared.events import DECLARE_EVENTLESS
from workers.jobs import job_dsn, run_job

logger = logging.getLogger(__name__)

MRP_TIMEOUT_S = 3600


async def _replace_earlier(conn: asyncpg.Connection, run_id: int) -> tuple[int, float]:
    began = time.perf_counter()
    replaced = await planning.replace_earlier(conn, run_id)
    return replaced, time.perf_counter() - began


async def _end_backend(dsn: str, pid: int) -> None:
    """Terminate a server process (which rolls its transaction back) from another connection."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def execute_run(
    dsn: str, sessionmaker: SessionMaker, job_id: int, progress: planning.Progress
) -> dict[str, Any]:
    """Load, plan and save the run of ``job_id``; returns the figures for the job's message."""
    async with sessionmaker() as session:
        run = (await session.execute(select(MrpRun).where(MrpRun.job_id == job_id))).scalar_one()
    start_date: date = run.start_date
    timings: dict[str, float] = {}
    # the save transaction opens first (see the module docstring)
    conn = await asyncpg.connect(dsn)
    load_conn = await asyncpg.connect(dsn)
    replacing: asyncio.Task[tuple[int, float]] | None = None
    try:
        transaction = conn.transaction()
        await transaction.start()
        await load_conn.execute(DECLARE_EVENTLESS, await conn.fetchval("SELECT pg_current_xact_id()::text"))
        replacing = asyncio.create_task(_replace_earlier(conn, run.id))
        began = time.perf_counter()
        await progress(0.02, "loading items, BOMs, demand and supply; replacing the previous plan meanwhile")
        inputs = await planning.load(load_conn, start_date, run.forecast_min_probability)
        await load_conn.close()
        timings["load"] = time.perf_counter() - began
        await progress(
            0.25,
            f"planning {len(inputs.items):,} items, {len(inputs.demands):,} demands, "
            f"{len(inputs.receipts):,} receipts",
        )
        began = time.perf_counter()
        result = await asyncio.to_thread(
            plan, inputs.items, inputs.demands, inputs.receipts, start_date, run.horizon_days
        )
        timings["plan"] = time.perf_counter() - began
        planned = planning.items_planned(inputs, result)
        del inputs
        began = time.perf_counter()
        replaced, timings["replace"] = await replacing
        timings["replaceAfterPlan"] = time.perf_counter() - began
        await progress(
            0.6,
            f"replaced {replaced:,} planned orders of earlier runs; "
            f"saving {len(result.planned_orders):,} planned orders",
        )
        saved = await planning.write_plan(conn, run.id, result, planned, replaced, progress)
        began = time.perf_counter()
        await transaction.commit()
        timings["save"] = saved.seconds + time.perf_counter() - began
    except BaseException:
        if replacing is not None and not replacing.done():
            # closing our end alone would leave the DELETE running to its end, locks held
            with contextlib.suppress(Exception):
                await _end_backend(dsn, conn.get_server_pid())
            with contextlib.suppress(BaseException):
                await replacing
        conn.terminate()  # the server rolls the save transaction back
        raise
    finally:
        await load_conn.close()
        await conn.close()
    return {
        "runId": run.id,
        "itemsPlanned": planned,
        "plannedOrders": saved.planned_orders,
        "peggings": saved.peggings,
        "messages": saved.messages,
        "replaced": saved.replaced,
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }


async def run_mrp(ctx: dict[str, Any], job_id: int) -> dict[str, Any] | None:
    """arq entry point (queued by the outbox relay under ``domain.jobs.services.arq_job_id``)."""
    dsn = job_dsn(ctx)

    def summary(figures: dict[str, Any]) -> str:
        return (
            f"planned {figures['itemsPlanned']:,} items: {figures['plannedOrders']:,} planned orders, "
            f"{figures['peggings']:,} pegs, {figures['messages']:,} messages"
        )

    return await run_job(ctx, job_id, lambda reporter: execute_run(dsn, ctx["sessionmaker"], job_id, reporter),
                         summary)
