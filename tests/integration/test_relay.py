"""The outbox relay against the real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from arq import ArqRedis
from arq.connections import RedisSettings
from arq.jobs import Job
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import workers.outbox as relay_module
import workers.settings as worker_module
from domain.jobs.services import arq_job_id
from domain.planning.services import RunRequest, start_run
from domain.shared.db import asyncpg_dsn, make_engine, make_sessionmaker
from domain.shared.events import record_event
from erpgraph.settings import Settings
from workers.names import RUN_MRP
from workers.outbox import Position, RelayConfig, read_cursor, relay, relay_events
from workers.settings import run_worker
from workers.wakeup import listen_and_relay


@pytest.fixture
def config() -> RelayConfig:
    prefix = f"test:{uuid.uuid4().hex[:12]}"
    return RelayConfig(
        channel=f"{prefix}:events", cursor_key=f"{prefix}:cursor", lock_key=f"{prefix}:lock"
    )


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def subscriber(redis: aioredis.Redis, config: RelayConfig) -> AsyncIterator[PubSub]:
    pubsub = redis.pubsub()
    await pubsub.subscribe(config.channel)
    # Wait for the confirmation, or a publish could reach the server first.
    confirmation = await pubsub.get_message(timeout=5)
    assert confirmation is not None and confirmation["type"] == "subscribe"
    yield pubsub
    await pubsub.aclose()  # type: ignore[no-untyped-call]


async def received(pubsub: PubSub, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Messages until ``count`` arrived or ``timeout`` passed (to prove none come, ask for 1)."""
    messages: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(messages) < count and asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
        if message is not None:
            messages.append(json.loads(message["data"]))
    return messages


async def nothing_more(pubsub: PubSub) -> bool:
    return await received(pubsub, 1, timeout=0.3) == []


async def write_event(
    sessionmaker: async_sessionmaker[AsyncSession], entity_id: int, **payload: Any
) -> None:
    async with sessionmaker.begin() as session:
        await record_event(session, "customer.updated", "customer", entity_id, payload, "tester")


async def stored_events(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT id, txid, occurred_at FROM domain_events ORDER BY txid, id")
        )
        return list(result.all())


async def relay_until(
    redis: aioredis.Redis, engine: AsyncEngine, config: RelayConfig, expected: int
) -> int:
    """Relay until ``expected`` events went out: a foreign transaction in the cluster
    (another test's database on a shared server) may hold the horizon back briefly."""
    published = 0
    for _ in range(100):
        published += await relay(redis, engine, config) or 0
        if published >= expected:
            return published
        await asyncio.sleep(0.05)
    return published


async def test_committed_events_are_published_once_in_order(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
) -> None:
    await write_event(sessionmaker, 7, name="Ærø ApS", credit={"limit": "1000.00"})
    await write_event(sessionmaker, 8, tags=["a", "b"])
    await write_event(sessionmaker, 7)

    assert await relay_until(redis, engine, config, 3) == 3

    rows = await stored_events(engine)
    messages = await received(subscriber, 3)
    assert messages == [
        {
            "id": rows[0].id,
            "type": "customer.updated",
            "entityType": "customer",
            "entityId": 7,
            "payload": {"name": "Ærø ApS", "credit": {"limit": "1000.00"}},
            "occurredAt": messages[0]["occurredAt"],
            "position": f"{rows[0].txid}:{rows[0].id}",
        },
        {
            "id": rows[1].id,
            "type": "customer.updated",
            "entityType": "customer",
            "entityId": 8,
            "payload": {"tags": ["a", "b"]},
            "occurredAt": messages[1]["occurredAt"],
            "position": f"{rows[1].txid}:{rows[1].id}",
        },
        {
            "id": rows[2].id,
            "type": "customer.updated",
            "entityType": "customer",
            "entityId": 7,
            "payload": {},
            "occurredAt": messages[2]["occurredAt"],
            "position": f"{rows[2].txid}:{rows[2].id}",
        },
    ]
    for message, row in zip(messages, rows, strict=True):
        assert datetime.fromisoformat(message["occurredAt"]) == row.occurred_at
    assert await read_cursor(redis, config) == Position(rows[-1].txid, rows[-1].id)

    assert await relay(redis, engine, config) == 0
    assert await nothing_more(subscriber)


async def test_relay_pages_through_a_backlog_in_one_pass(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
) -> None:
    small = RelayConfig(config.channel, config.cursor_key, config.lock_key, batch_size=2)
    for entity_id in range(5):
        await write_event(sessionmaker, entity_id)

    assert await relay_until(redis, engine, small, 5) == 5

    assert [m["entityId"] for m in await received(subscriber, 5)] == [0, 1, 2, 3, 4]
    assert await nothing_more(subscriber)


async def test_late_commit_is_held_back_then_published_exactly_once(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
) -> None:
    async with sessionmaker() as a, sessionmaker() as b:
        await record_event(a, "order.created", "order", 1)  # lower id, commits last
        await record_event(b, "order.created", "order", 2)
        await b.commit()

        # B is committed, but A (an older transaction) is still open: B waits.
        assert await relay(redis, engine, config) == 0
        assert await nothing_more(subscriber)

        await a.commit()

    assert await relay_until(redis, engine, config, 2) == 2
    assert [m["entityId"] for m in await received(subscriber, 2)] == [1, 2]
    assert await relay(redis, engine, config) == 0
    assert await nothing_more(subscriber)


async def test_event_with_lower_id_from_a_later_commit_is_not_skipped(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
) -> None:
    # `older` takes its xid first but inserts last, so its event gets the higher id
    # and is published first; paging by id alone would then skip the other event.
    async with sessionmaker() as older, sessionmaker() as newer:
        await older.execute(text("SELECT pg_current_xact_id()"))
        await newer.execute(text("SELECT pg_current_xact_id()"))
        await record_event(newer, "order.created", "order", 1)
        await record_event(older, "order.created", "order", 2)
        await older.commit()

        assert await relay_until(redis, engine, config, 1) == 1
        first = await received(subscriber, 1)

        await newer.commit()

    assert await relay_until(redis, engine, config, 1) == 1
    second = await received(subscriber, 1)
    assert [m["entityId"] for m in first + second] == [2, 1]
    assert first[0]["id"] > second[0]["id"]
    assert await nothing_more(subscriber)


async def test_failure_before_publish_leaves_the_cursor_and_the_next_pass_publishes(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for entity_id in range(3):
        await write_event(sessionmaker, entity_id)
    real_encode = relay_module.encode_event

    def crash_on_third(row: Any) -> str:
        if row.entity_id == 2:
            raise RuntimeError("crashed between read and publish")
        return real_encode(row)

    monkeypatch.setattr(relay_module, "encode_event", crash_on_third)
    with pytest.raises(RuntimeError):
        await relay_until(redis, engine, config, 3)
    assert await nothing_more(subscriber)
    assert await read_cursor(redis, config) == Position(0, 0)
    assert not await redis.exists(config.lock_key)

    monkeypatch.setattr(relay_module, "encode_event", real_encode)
    assert await relay_until(redis, engine, config, 3) == 3
    assert [m["entityId"] for m in await received(subscriber, 3)] == [0, 1, 2]
    assert await nothing_more(subscriber)


async def test_relay_that_loses_the_race_for_the_cursor_publishes_nothing(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await write_event(sessionmaker, 1)
    await write_event(sessionmaker, 2)
    real_fetch = relay_module._fetch

    async def fetch_then_lose_race(engine: AsyncEngine, after: Position, limit: int) -> list[Any]:
        rows = await real_fetch(engine, after, limit)
        if rows:
            # What a second relay (its lock expired under us) does after publishing.
            await redis.set(config.cursor_key, Position(rows[-1].txid, rows[-1].id).encode())
        return rows

    monkeypatch.setattr(relay_module, "_fetch", fetch_then_lose_race)
    for _ in range(100):
        assert await relay(redis, engine, config) == 0
        if await redis.exists(config.cursor_key):
            break
        await asyncio.sleep(0.05)

    assert await nothing_more(subscriber)


async def test_relay_whose_lock_expired_stops_and_leaves_the_new_owner_alone(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one_at_a_time = dataclasses.replace(config, batch_size=1)
    for entity_id in range(3):
        await write_event(sessionmaker, entity_id)
    real_fetch = relay_module._fetch

    async def fetch_then_lose_lock(engine: AsyncEngine, after: Position, limit: int) -> list[Any]:
        rows = await real_fetch(engine, after, limit)
        if rows:
            await redis.set(config.lock_key, "new owner")
        return rows

    monkeypatch.setattr(relay_module, "_fetch", fetch_then_lose_lock)
    published = 0
    for _ in range(100):
        await redis.delete(config.lock_key)
        published = await relay(redis, engine, one_at_a_time) or 0
        if published:
            break
        await asyncio.sleep(0.05)

    assert published == 1
    assert [m["entityId"] for m in await received(subscriber, 1)] == [0]
    assert await redis.get(config.lock_key) == b"new owner"
    assert await relay(redis, engine, one_at_a_time) is None


async def test_only_one_relay_runs_at_a_time(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
) -> None:
    for entity_id in range(20):
        await write_event(sessionmaker, entity_id)

    await redis.set(config.lock_key, "another relay")
    assert await relay(redis, engine, config) is None
    assert await relay_events({"redis": redis, "engine": engine, "relay": config}) == 0
    await redis.delete(config.lock_key)

    published = 0
    for _ in range(100):
        results = await asyncio.gather(*(relay(redis, engine, config) for _ in range(4)))
        published += sum(r or 0 for r in results)
        if published >= 20:
            break
        await asyncio.sleep(0.05)

    assert published == 20
    assert [m["entityId"] for m in await received(subscriber, 20)] == list(range(20))
    assert await nothing_more(subscriber)


async def test_notification_runs_a_pass_promptly(
    database_url: str,
    redis: aioredis.Redis,
    engine: AsyncEngine,
    config: RelayConfig,
    subscriber: PubSub,
) -> None:
    ready = asyncio.Event()
    listener = asyncio.create_task(
        listen_and_relay(
            asyncpg_dsn(database_url), lambda: relay(redis, engine, config), ready=ready
        )
    )
    try:
        await asyncio.wait_for(ready.wait(), 5)
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            # What record_event would do: notify in the writing transaction.
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO domain_events (type, entity_type, entity_id) "
                    "VALUES ('order.created', 'order', 42)"
                )
                await conn.execute("NOTIFY domain_events")
        finally:
            await conn.close()

        messages = await received(subscriber, 1, timeout=2.0)
        assert [m["entityId"] for m in messages] == [42]
    finally:
        listener.cancel()
        await asyncio.wait({listener})


async def test_listener_retries_while_another_relay_is_busy(database_url: str) -> None:
    results: list[int | None] = [0, None, 0]  # connect pass, busy, retried
    calls = 0
    done = asyncio.Event()

    async def relay_pass() -> int | None:
        nonlocal calls
        calls += 1
        if calls == len(results):
            done.set()
        return results[min(calls, len(results)) - 1]

    ready = asyncio.Event()
    dsn = asyncpg_dsn(database_url)
    listener = asyncio.create_task(listen_and_relay(dsn, relay_pass, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 5)
        while calls < 1:
            await asyncio.sleep(0.01)
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("NOTIFY domain_events")
        finally:
            await conn.close()
        await asyncio.wait_for(done.wait(), 2)
    finally:
        listener.cancel()
        await asyncio.wait({listener})


async def test_in_process_worker_relays_with_its_cron_and_stops_cleanly(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
) -> None:
    stop = asyncio.Event()
    queue = f"test:{uuid.uuid4().hex[:12]}:queue"
    worker = asyncio.create_task(run_worker(settings, stop=stop, relay=config, queue_name=queue))
    try:
        await asyncio.sleep(0.5)
        # No NOTIFY is sent, so the cron is what delivers this.
        await write_event(sessionmaker, 99, note="while running")
        messages = await received(subscriber, 1, timeout=5.0)
        assert [(m["entityId"], m["payload"]) for m in messages] == [
            (99, {"note": "while running"})
        ]
    finally:
        stop.set()
        await asyncio.wait_for(worker, 3)
    assert await nothing_more(subscriber)


async def test_in_process_worker_stops_when_cancelled(
    settings: Settings, config: RelayConfig
) -> None:
    queue = f"test:{uuid.uuid4().hex[:12]}:queue"
    worker = asyncio.create_task(run_worker(settings, relay=config, queue_name=queue))
    await asyncio.sleep(0.5)
    worker.cancel()
    done, _ = await asyncio.wait({worker}, timeout=3)
    assert worker in done and worker.cancelled()


async def test_in_process_worker_reports_a_failed_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoRetries:
        @staticmethod
        def from_dsn(dsn: str) -> RedisSettings:
            return dataclasses.replace(RedisSettings.from_dsn(dsn), conn_retries=0)

    monkeypatch.setattr(worker_module, "RedisSettings", NoRetries)
    unreachable = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with pytest.raises(RedisConnectionError):
        await asyncio.wait_for(run_worker(unreachable, stop=asyncio.Event()), 10)


async def test_a_long_writer_declared_eventless_does_not_hold_events_back(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
    subscriber: PubSub,
) -> None:
    from domain.shared.events import DECLARE_EVENTLESS

    async with engine.connect() as save, engine.connect() as other:
        # a long write transaction (an MRP save) that appends no event
        await save.execute(text("CREATE TEMP TABLE scratch (n int)"))
        await save.execute(text("INSERT INTO scratch VALUES (1)"))
        xid = (await save.execute(text("SELECT pg_current_xact_id()::text"))).scalar_one()
        await write_event(sessionmaker, 7)
        assert await relay(redis, engine, config) == 0  # held back by the open writer
        assert await nothing_more(subscriber)

        raw = await other.get_raw_connection()
        await raw.driver_connection.execute(DECLARE_EVENTLESS, xid)  # autocommitted
        assert await relay_until(redis, engine, config, 1) == 1  # no longer waits for it
        assert [m["entityId"] for m in await received(subscriber, 1)] == [7]
        await save.rollback()
    assert await relay(redis, engine, config) == 0


async def test_a_queued_job_reaches_arq_once_however_often_it_is_relayed(
    redis: aioredis.Redis,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: RelayConfig,
) -> None:
    queue = f"arq:queue:{uuid.uuid4().hex[:12]}"
    async with sessionmaker.begin() as session:
        started = await start_run(
            session, RunRequest(), today=date.today(), actor="planner", stale_after_s=60, queue_name=queue
        )
    assert await relay_until(redis, engine, config, 1) == 1
    await redis.delete(config.cursor_key)  # the cursor is lost: the relay replays the event
    assert await relay_until(redis, engine, config, 1) == 1
    async with sessionmaker.begin() as session:  # runMrp again while it waits: queued again
        again = await start_run(
            session, RunRequest(), today=date.today(), actor="planner", stale_after_s=60, queue_name=queue
        )
    assert again.job.id == started.job.id and not again.created
    assert await relay_until(redis, engine, config, 1) == 1

    job_id = arq_job_id(started.job)
    assert [member.decode() for member in await redis.zrange(queue, 0, -1)] == [job_id]
    arq = ArqRedis(connection_pool=redis.connection_pool)
    info = await Job(job_id, arq, _queue_name=queue).info()
    assert info is not None and info.function == RUN_MRP and info.args == (started.job.id,)
