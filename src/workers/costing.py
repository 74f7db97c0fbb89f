"""The ``run_cost_rollup`` arq job: claim, load with COPY, roll up, save with COPY, report.

Shaped like ``workers.mrp``: the save transaction opens first on a connection of its
own and deletes the previous roll-up (``rollup_run.clear``) while the job loads on a
second connection and rolls up in a thread; then the new results are copied in and
the transaction commits. It appends no event, so it is declared eventless and does
not hold the relay back. Re-running replaces every result (idempotent); a failure or
a killed worker rolls the save back and leaves the previous roll-up in place, and
arq's re-run claims the job again while it is still RUNNING.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg

from domain.costing import rollup_run
from domain.costing.rollup import roll_up
from domain.planning.run import Progress
from domain.shared.events import DECLARE_EVENTLESS
from workers.jobs import job_dsn, run_job

logger = logging.getLogger(__name__)

ROLLUP_TIMEOUT_S = 1800


async def _clear(conn: asyncpg.Connection) -> tuple[int, float]:
    began = time.perf_counter()
    deleted = await rollup_run.clear(conn)
    return deleted, time.perf_counter() - began


async def execute_rollup(dsn: str, job_id: int, progress: Progress) -> dict[str, Any]:
    """Load, roll up and save; returns the figures for the job's message."""
    timings: dict[str, float] = {}
    conn = await asyncpg.connect(dsn)
    load_conn = await asyncpg.connect(dsn)
    clearing: asyncio.Task[tuple[int, float]] | None = None
    try:
        transaction = conn.transaction()
        await transaction.start()
        await load_conn.execute(DECLARE_EVENTLESS, await conn.fetchval("SELECT pg_current_xact_id()::text"))
        clearing = asyncio.create_task(_clear(conn))
        began = time.perf_counter()
        await progress(0.05, "loading items and BOMs; clearing the previous roll-up meanwhile")
        loaded = await rollup_run.load(load_conn)
        await load_conn.close()
        timings["load"] = time.perf_counter() - began
        await progress(0.4, f"rolling up {len(loaded.items):,} items, {loaded.bom_lines:,} BOM lines")
        began = time.perf_counter()
        result = await asyncio.to_thread(roll_up, loaded.items)
        timings["rollup"] = time.perf_counter() - began
        del loaded
        began = time.perf_counter()
        cleared, timings["clear"] = await clearing
        timings["clearAfterRollup"] = time.perf_counter() - began
        await progress(0.7, f"saving {len(result.unit_costs):,} unit costs")
        saved = await rollup_run.write(conn, job_id, result)
        began = time.perf_counter()
        await transaction.commit()
        timings["save"] = saved.seconds + time.perf_counter() - began
    except BaseException:
        if clearing is not None and not clearing.done():
            clearing.cancel()
            with contextlib.suppress(BaseException):
                await clearing
        conn.terminate()  # the server rolls the save transaction back
        raise
    finally:
        await load_conn.close()
        await conn.close()
    return {
        "rolledUp": saved.rows,
        "replaced": cleared,
        "cycles": len(result.cycles),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }


async def run_cost_rollup(ctx: dict[str, Any], job_id: int) -> dict[str, Any] | None:
    """arq entry point (queued by the outbox relay under ``domain.jobs.services.arq_job_id``)."""
    dsn = job_dsn(ctx)

    def summary(figures: dict[str, Any]) -> str:
        cycles = f"; {figures['cycles']:,} BOM cycles left out" if figures["cycles"] else ""
        return f"rolled up {figures['rolledUp']:,} items with a BOM{cycles}"

    return await run_job(ctx, job_id, lambda reporter: execute_rollup(dsn, job_id, reporter), summary)
