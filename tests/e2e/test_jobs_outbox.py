"""Jobs leave the API only through the outbox: a killed API loses no queued job."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select

from domain.identity.services import create_token
from domain.jobs.models import Job
from domain.jobs.services import JOB_QUEUED, arq_job_id
from domain.shared.events import DomainEvent
from erpgraph.settings import Settings
from tests.e2e.processes import cli_env, free_port, post_graphql, running, wait_until_up
from tests.integration.helpers import adjust
from tests.integration.mrp_helpers import RUN_MRP, wait_for_job, worker
from tests.integration.test_backorders import bells, confirmed, reasons, until_reserved


async def test_a_job_committed_by_an_api_killed_at_once_still_runs(
    tmp_path: Path, settings: Settings, sessionmaker: Any, gql: Any
) -> None:
    async with sessionmaker.begin() as session:
        token = await create_token(session, "planner", "admin")
    assert settings.database_url and settings.redis_url
    env = cli_env(tmp_path, DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
                  ERPGRAPH_QUEUE_NAME=settings.queue_name, ERPGRAPH_ENV="production")
    port = free_port()
    with running(["serve", "--port", str(port)], env, tmp_path) as api:
        wait_until_up(port, api)
        body = post_graphql(port, token, RUN_MRP, {"input": {"horizonDays": 30}})
        api.send_signal(signal.SIGKILL)  # no clean-up, no chance to send anything after the answer
        assert api.wait(10) == -signal.SIGKILL
    payload = body["data"]["runMrp"]
    assert payload["errors"] == [] and payload["run"]["job"]["status"] == "QUEUED", payload

    async with sessionmaker() as session:
        job = (await session.execute(select(Job))).scalar_one()
        events = (await session.execute(
            select(DomainEvent).where(DomainEvent.type == JOB_QUEUED, DomainEvent.entity_id == job.id)
        )).scalars().all()
    # the job and the event that queues it were committed together; arq holds nothing yet
    assert job.status == "QUEUED"
    assert [event.payload for event in events] == [
        {"kind": "MRP", "arqJobId": arq_job_id(job), "queue": settings.queue_name}
    ]
    redis = aioredis.Redis.from_url(settings.redis_url)
    try:
        assert await redis.zcard(settings.queue_name) == 0
    finally:
        await redis.aclose()

    async with worker(settings):  # its outbox relay queues the job, then the worker runs it
        finished = await wait_for_job(gql, payload["run"]["job"]["id"])
    assert finished["status"] == "SUCCEEDED", finished
    async with sessionmaker() as session:
        assert (await session.get(Job, job.id, populate_existing=True)).attempts == 1  # type: ignore[union-attr]


async def test_an_erpgraph_worker_process_fills_a_backorder(
    tmp_path: Path, settings: Settings, sessionmaker: Any, gql: Any
) -> None:
    """The worker as deployed (its own process, importing only what it runs) allocates."""
    assert settings.database_url and settings.redis_url
    env = cli_env(tmp_path, DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
                  ERPGRAPH_QUEUE_NAME=settings.queue_name, ERPGRAPH_ENV="production")
    bell, customer = await bells(gql, sessionmaker, "0")
    waiting = await confirmed(gql, customer, bell, "2")
    with running(["worker"], env, tmp_path) as process:
        assert (await adjust(gql, bell, "2", reason="found"))["errors"] == []
        try:
            await until_reserved(gql, waiting, [2], timeout=30)
        finally:
            assert process.poll() is None, (tmp_path / "worker.log").read_text()
    reason = (await reasons(sessionmaker, waiting))[-1]
    assert reason.startswith("reserved 2 of BELL-01 from stock adjustment (found)"), reason
