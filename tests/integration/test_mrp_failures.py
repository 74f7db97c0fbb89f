"""MRP jobs that go wrong, and following a job live.

- A worker killed (SIGKILL) while saving leaves the previous plan exactly as it was;
  once its heartbeat is stale the job is FAILED and the next ``runMrp`` starts afresh.
- ``jobProgress`` streams a job from QUEUED to SUCCEEDED over a real websocket.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select, text, update

from domain.jobs.models import Job
from domain.jobs.services import LOST_WORKER
from domain.planning.models import MrpRun, PlannedOrder
from domain.shared.db import asyncpg_dsn
from erpgraph.settings import Settings
from tests.integration.helpers import graphql_ws
from tests.integration.mrp_helpers import JOB, planned, run_and_wait, run_mrp, wait_for_job, worker
from tests.integration.sales_helpers import pk
from tests.integration.test_mrp_job import bike_company
from tests.support import wait_until


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Planned orders with their pegging: a list without a cheap real maximum (api.list_maxima),
    # counted with ERPGRAPH_MAX_LINES entries, over the default cost in full pages of 100.
    return settings.model_copy(update={"max_cost": 100_000_000})


ERPGRAPH = str(Path(sys.executable).with_name("erpgraph"))
PROGRESS = "subscription($id: ID!) { jobProgress(jobId: $id) { id status progress message error } }"


async def _plan_rows(sessionmaker: Any) -> list[tuple[Any, ...]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(PlannedOrder.id, PlannedOrder.run_id, PlannedOrder.item_id, PlannedOrder.quantity,
                   PlannedOrder.due_date, PlannedOrder.status).order_by(PlannedOrder.id)
        )
        return [tuple(row) for row in rows]


async def _save_blocked(watcher: asyncpg.Connection) -> None:
    """Until a save waits on the previous plan's rows (the test's lock) with its DELETE."""

    async def waiting() -> bool:
        return bool(await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM planned_orders%'"
        ))

    await wait_until(waiting, what="the save to wait on the DELETE")


async def test_worker_killed_while_saving_leaves_the_previous_plan(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await bike_company(gql, sessionmaker)
    first = await run_and_wait(gql, settings, horizonDays=60)
    before = await _plan_rows(sessionmaker)
    assert len(before) == 4

    second = await run_mrp(gql, horizonDays=60)
    assert settings.database_url is not None
    dsn = asyncpg_dsn(settings.database_url)
    blocker = await asyncpg.connect(dsn)
    # pg_stat_activity is a snapshot per transaction: watch from outside the blocker's
    watcher = await asyncpg.connect(dsn)
    process = None
    try:
        # Hold the previous plan's rows: the worker's save blocks on its DELETE, mid-transaction.
        await blocker.execute("BEGIN")
        await blocker.execute("SELECT id FROM planned_orders WHERE status = 'PLANNED' FOR UPDATE")
        env = os.environ | {"DATABASE_URL": settings.database_url, "REDIS_URL": str(settings.redis_url),
                            "ERPGRAPH_QUEUE_NAME": settings.queue_name}
        process = await asyncio.create_subprocess_exec(
            ERPGRAPH, "worker", env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )

        await _save_blocked(watcher)
        job = (await gql(JOB, {"id": second["job"]["id"]}))["data"]["job"]
        assert job["status"] == "RUNNING", job
        process.send_signal(signal.SIGKILL)
        await process.wait()
    finally:
        await blocker.execute("ROLLBACK")
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    async def server_gave_up() -> bool:
        left = await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND (query LIKE 'DELETE FROM planned_orders%' OR query LIKE 'COPY%')"
            " AND state <> 'idle'"
        )
        return left == 0

    try:
        await wait_until(server_gave_up, what="the killed worker's transaction to end")
    finally:
        await blocker.close()
        await watcher.close()

    # Nothing of the interrupted run was saved; the previous plan is untouched.
    assert await _plan_rows(sessionmaker) == before
    async with sessionmaker() as session:
        runs = dict((await session.execute(select(MrpRun.id, MrpRun.completed_at))).all())
        job_row = await session.get(Job, pk(second["job"]["id"]))
    assert runs[pk(second["id"])] is None and runs[pk(first["id"])] is not None
    assert job_row is not None and job_row.status == "RUNNING"

    # Time passes without a heartbeat: the job is taken as lost, and planning goes on.
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Job).where(Job.id == job_row.id).values(heartbeat_at=Job.heartbeat_at - timedelta(minutes=10))
        )
    third = await run_mrp(gql, horizonDays=60)
    assert third["id"] != second["id"]
    lost = (await gql(JOB, {"id": second["job"]["id"]}))["data"]["job"]
    assert lost["status"] == "FAILED" and lost["error"] == LOST_WORKER
    async with worker(settings):
        done = await wait_for_job(gql, third["job"]["id"])
    assert done["status"] == "SUCCEEDED"
    after = await planned(gql)
    assert len(after) == 4 and {o["id"] for o in after}.isdisjoint({str(row[0]) for row in before})


async def test_a_failing_run_is_failed_and_keeps_the_previous_plan(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await bike_company(gql, sessionmaker)
    await run_and_wait(gql, settings, horizonDays=60)
    before = await _plan_rows(sessionmaker)
    second = await run_mrp(gql, horizonDays=60)
    # The save fails half-way: after the old plan was deleted and the new orders written.
    async with sessionmaker.begin() as session:
        await session.execute(text(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$"
        ))
        await session.execute(text(
            "CREATE TRIGGER refuse_pegging BEFORE INSERT ON peggings FOR EACH ROW EXECUTE FUNCTION refuse()"
        ))
    async with worker(settings):
        job = await wait_for_job(gql, second["job"]["id"])
    assert job["status"] == "FAILED" and "disk full (simulated)" in job["error"], job
    assert await _plan_rows(sessionmaker) == before
    again = await run_mrp(gql, horizonDays=60)  # a failed job does not block the next run
    assert again["id"] != second["id"]


async def test_job_progress_streams_until_the_job_finishes(
    gql: Any, sessionmaker: Any, settings: Settings, live_server: str, admin_token: str
) -> None:
    await bike_company(gql, sessionmaker)
    run = await run_mrp(gql, horizonDays=60)
    job_id = run["job"]["id"]
    async with await graphql_ws(live_server, admin_token) as ws:
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": PROGRESS, "variables": {"id": job_id}}}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "next" and first["payload"]["data"]["jobProgress"]["status"] == "QUEUED"
        states = [first["payload"]["data"]["jobProgress"]]
        async with worker(settings):
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] == "complete":
                    break
                assert message["type"] == "next", message
                states.append(message["payload"]["data"]["jobProgress"])
    assert {state["id"] for state in states} == {job_id}
    assert states[-1]["status"] == "SUCCEEDED" and states[-1]["progress"] == 1.0
    assert "RUNNING" in [state["status"] for state in states]
    # states are re-read on each report, so fast steps may merge, but never go backwards
    progress = [state["progress"] for state in states if state["status"] == "RUNNING"]
    assert progress == sorted(progress) and all(0 <= p < 1 for p in progress)
    assert states[-1]["message"].startswith("planned 4 items: 4 planned orders"), states[-1]


async def test_job_progress_of_an_unknown_or_hidden_job_is_refused(
    gql: Any, app: Any, sessionmaker: Any, make_token: Any, live_server: str
) -> None:
    run = await run_mrp(gql)
    sales = await make_token("sales")
    unknown = "Sm9iOjk5OTk5"  # Job:99999
    for token, job_id, code in ((sales, run["job"]["id"], "FORBIDDEN"), (sales, unknown, "NOT_FOUND")):
        async with await graphql_ws(live_server, token) as ws:
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": PROGRESS, "variables": {"id": job_id}}}))
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == code, message


async def test_a_worker_stopped_mid_run_hands_the_job_to_the_next_one(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await bike_company(gql, sessionmaker)
    await run_and_wait(gql, settings, horizonDays=60)
    before = await _plan_rows(sessionmaker)
    second = await run_mrp(gql, horizonDays=60)
    assert settings.database_url is not None
    dsn = asyncpg_dsn(settings.database_url)
    blocker, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        await blocker.execute("BEGIN")
        await blocker.execute("SELECT id FROM planned_orders WHERE status = 'PLANNED' FOR UPDATE")
        async with worker(settings):  # stopped (a deploy, Ctrl-C) while its save waits

            await _save_blocked(watcher)
    finally:
        await blocker.execute("ROLLBACK")
        await blocker.close()
        await watcher.close()
    assert await _plan_rows(sessionmaker) == before
    async with worker(settings):  # arq hands the cancelled job to the next worker: a re-run
        job = await wait_for_job(gql, second["job"]["id"])
    assert job["status"] == "SUCCEEDED", job
    async with sessionmaker() as session:
        row = await session.get(Job, pk(second["job"]["id"]))
    assert row is not None and row.attempts == 2
    after = await _plan_rows(sessionmaker)
    assert len(after) == 4 and {r[0] for r in after}.isdisjoint({r[0] for r in before})
