"""The outbox relay: committed ``domain_events`` rows to Redis pub/sub, and jobs to arq.

Guarantee
---------
Every committed event is published to the channel (default ``erpgraph:events``)
exactly once, in ``(txid, id)`` order, as long as the cursor key in Redis survives.
If Redis loses the cursor (no persistence, failover to a lagging replica) the relay
replays from an older position: delivery is then at-least-once, and a subscriber
must ignore an event id it has already seen.

A ``job.queued`` event also queues its arq job (``domain.jobs.services.queue``), a
``stock.freed`` event an ``allocate_stock`` job on the worker's queue
(``domain.inventory.availability``), and, when the ERP writeback is on, a change of a
customer, an item or an order's confirmation its writeback (``workers.erp``), before the
batch is published and the cursor moves: a crash in between queues it again on the next pass, which arq ignores (the job
id is deterministic), and a job that ran already changes nothing the second time. This
is the only way work reaches the workers, so a process that dies right after its
commit loses nothing.

Why this holds:

* A sequence value is taken at insert, not at commit, so ``id > last_id`` can skip
  an event whose transaction commits late. The relay reads only rows whose writing
  transaction is older than every transaction still in flight
  (``txid < pg_snapshot_xmin(pg_current_snapshot())``, see ``EVENT_HORIZON``, evaluated in the same
  statement snapshot as the read). No transaction can later commit below that
  horizon, so the set of rows under it is final and a scan past the position
  ``(txid, id)`` of the last published row is gapless. Paging by ``id`` alone would
  not be: a transaction can take its xid before another one, insert later (higher
  id), and commit first.
* The cursor is advanced in the same MULTI/EXEC as the PUBLISH commands, under a
  WATCH of the cursor key: a crash before EXEC publishes nothing (the next pass
  re-reads the batch), and a relay that lost a race to another one publishes
  nothing either (its EXEC aborts). A Redis lock with expiry keeps a second relay
  from even trying while one runs.
* Redis pub/sub itself is fire-and-forget: a subscriber that is not connected
  misses messages, and must catch up from ``domain_events`` by position.

Limits
------
* Order is txid order: the order in which writing transactions took their xid
  (their first write or row lock), not the order of their commits. For one entity
  the two agree when every writer locks the entity row (``SELECT ... FOR UPDATE``)
  before its first write, because the lock serialises the writers and a row lock
  itself assigns the xid. Order status streaming must rely on that rule: a writer
  that first writes elsewhere and only then waits for the entity lock can be
  delivered before an earlier-committed writer of the same entity.
* Delivery waits for the oldest write transaction in the whole cluster, so a
  long or idle-in-transaction writer delays every event behind it
  (``idle_in_transaction_session_timeout`` bounds that). A long writer that appends
  no event (the MRP save) lists its xid in ``eventless_transactions`` and is left
  out of the horizon: it cannot commit an event below it.
* Positions are not ids: a resuming subscriber must page by ``(txid, id)`` too.
* ``txid`` must keep its default. After a dump is restored into a new cluster, xids
  start over below the stored cursor: reset the cursor key, or new events stay unseen.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from arq import ArqRedis
from redis.asyncio import Redis
from redis.exceptions import WatchError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.integration.erp import sync as erp_sync
from domain.inventory.availability import STOCK_FREED
from domain.jobs.services import JOB_QUEUED
from domain.shared.events import EVENT_HORIZON
from workers import erp
from workers.names import ALLOCATE_STOCK, JOB_FUNCTIONS
from workers.webhooks import queue_deliveries

logger = logging.getLogger(__name__)

# Deleting or extending the lock only while we still own it: a lock that expired and
# was taken by another relay must not be released by the old owner.
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_EXTEND = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)

# The snapshot function and the row read share one statement snapshot, so every
# row below the horizon that is committed is also visible here.
_READ = text(
    f"""
    SELECT id, txid, type, entity_type, entity_id, payload, occurred_at
    FROM domain_events
    WHERE txid < {EVENT_HORIZON}
      AND (txid, id) > (CAST(:txid AS xid8), CAST(:id AS bigint))
    ORDER BY txid, id
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class RelayConfig:
    """Where the relay publishes and keeps its state in Redis."""

    channel: str = "erpgraph:events"
    cursor_key: str = "erpgraph:relay:cursor"
    lock_key: str = "erpgraph:relay:lock"
    batch_size: int = 500
    lock_ttl_ms: int = 30_000
    # where the work an event asks for (``stock.freed``) is queued: the worker's own queue
    queue_name: str = "arq:queue"
    # the ERP the writeback fills (``Settings.writeback_system``); None: the writeback is off
    writeback: str | None = None


class Position(NamedTuple):
    """A place in the event stream: the writing transaction, then the event id."""

    txid: int
    id: int

    def encode(self) -> str:
        return f"{self.txid}:{self.id}"

    @classmethod
    def decode(cls, raw: bytes | str | None) -> Position:
        if raw is None:
            return START
        value = raw.decode() if isinstance(raw, bytes) else raw
        txid, _, event_id = value.partition(":")
        return cls(int(txid), int(event_id))


START = Position(0, 0)


def encode_event(row: Any) -> str:
    """The pub/sub message for one ``domain_events`` row."""
    occurred_at: datetime = row.occurred_at
    return json.dumps(
        {
            "id": row.id,
            "type": row.type,
            "entityType": row.entity_type,
            "entityId": row.entity_id,
            "payload": row.payload,
            "occurredAt": occurred_at.isoformat(),
            # (txid, id) as "txid:id": subscribers order and dedupe by it, never by id
            "position": Position(row.txid, row.id).encode(),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


async def read_cursor(redis: Redis, config: RelayConfig = RelayConfig()) -> Position:
    """The position after the last published event (``(0, 0)`` before the first)."""
    return Position.decode(await redis.get(config.cursor_key))


async def relay(
    redis: Redis, engine: AsyncEngine, config: RelayConfig = RelayConfig()
) -> int | None:
    """Publish committed events until caught up; the number published.

    Returns None without reading anything when another relay holds the lock.
    """
    token = uuid.uuid4().hex
    if not await redis.set(config.lock_key, token, nx=True, px=config.lock_ttl_ms):
        return None
    try:
        published = 0
        while True:
            count = await _relay_batch(redis, engine, config)
            if count is None:
                return published
            published += count
            if count < config.batch_size:
                return published
            ttl = str(config.lock_ttl_ms)
            if not await redis.eval(_EXTEND, 1, config.lock_key, token, ttl):  # type: ignore[misc]
                return published  # our lock expired: another relay may be running now
    finally:
        await redis.eval(_RELEASE, 1, config.lock_key, token)  # type: ignore[misc]


async def relay_events(ctx: dict[str, Any]) -> int:
    """arq job: run one relay pass with the worker's Redis and engine; events published.

    Uses ``ctx["relay"]`` (a :class:`RelayConfig`) when present.
    """
    config: RelayConfig = ctx.get("relay") or RelayConfig()
    return await relay(ctx["redis"], ctx["engine"], config) or 0


async def _fetch(engine: AsyncEngine, after: Position, limit: int) -> list[Any]:
    async with engine.connect() as conn:
        result = await conn.execute(_READ, {"txid": after.txid, "id": after.id, "limit": limit})
        return list(result.all())


async def queue_jobs(
    redis: Redis, engine: AsyncEngine, rows: list[Any], queue_name: str = RelayConfig.queue_name
) -> int:
    """Queue the arq job each ``job.queued`` or ``stock.freed`` row asks for, and the webhook
    deliveries of subscribed events (``workers.webhooks``); how many jobs the rows asked for.

    Idempotent: every job id is the event's own, and arq ignores an id it holds
    (queued, running or with a kept result).
    """
    arq = redis if isinstance(redis, ArqRedis) else ArqRedis(connection_pool=redis.connection_pool)
    await queue_deliveries(arq, engine, rows, queue_name)
    asking = [row for row in rows if row.type in (JOB_QUEUED, STOCK_FREED)]
    if not asking:
        return 0
    for row in asking:
        if row.type == STOCK_FREED:
            # the event's position and time: unique even across re-created databases
            job_id = f"stock:{row.txid}:{row.id}:{int(row.occurred_at.timestamp() * 1_000_000)}"
            await arq.enqueue_job(
                ALLOCATE_STOCK, row.payload["itemIds"], row.payload["source"], row.id,
                _job_id=job_id, _queue_name=queue_name,
            )
            continue
        function = JOB_FUNCTIONS.get(row.payload["kind"])
        if function is None:  # a job kind this worker version does not know: leave it QUEUED
            logger.error("job %s: no worker function for kind %r", row.entity_id, row.payload["kind"])
            continue
        await arq.enqueue_job(
            function, row.entity_id, _job_id=row.payload["arqJobId"], _queue_name=row.payload["queue"]
        )
    return len(asking)


async def schedule_writeback(redis: Redis, engine: AsyncEngine, rows: list[Any], config: RelayConfig) -> None:
    """Make the records the events change PENDING for the ERP writeback, and queue their jobs.

    The rows commit before the jobs are queued: a crash in between leaves them due in
    PostgreSQL, where the writeback's sweeper finds them. A replayed batch schedules nothing
    new (``domain.integration.erp.sync.schedule``).
    """
    assert config.writeback is not None
    async with engine.begin() as conn:
        dues = await erp_sync.schedule(conn, config.writeback, rows)
    await erp.enqueue(redis, dues, config.queue_name)


# One batch and its cursor in one MULTI/EXEC; None when another relay moved the cursor.
async def _relay_batch(redis: Redis, engine: AsyncEngine, config: RelayConfig) -> int | None:
    async with redis.pipeline(transaction=True) as pipe:
        await pipe.watch(config.cursor_key)
        after = Position.decode(await pipe.get(config.cursor_key))
        rows = await _fetch(engine, after, config.batch_size)
        if not rows:
            return 0
        # first: a failure publishes nothing, and the next pass does it again
        await queue_jobs(redis, engine, rows, config.queue_name)
        if config.writeback is not None:
            await schedule_writeback(redis, engine, rows, config)
        messages = [encode_event(row) for row in rows]
        pipe.multi()  # type: ignore[no-untyped-call]  # untyped in redis-py
        for message in messages:
            pipe.publish(config.channel, message)
        pipe.set(config.cursor_key, Position(rows[-1].txid, rows[-1].id).encode())
        try:
            await pipe.execute()
        except WatchError:
            # Another relay published from this cursor, or the connection died around
            # EXEC; either way the cursor in Redis says what was published.
            logger.warning("relay batch after %s not published: cursor moved", after.encode())
            return None
    return len(rows)
