"""Subscription benchmark: commit-to-client latency of ``orderStatusChanged``.

    .venv/bin/python bench/subscriptions.py [--subscribers 1000] [--rate 200] [--seconds 10]

Uses DATABASE_URL / REDIS_URL when set, embedded servers otherwise. Seeds a scratch
database with one order per subscriber, starts `erpgraph serve` (production mode)
and `erpgraph worker` (the relay) in their own processes, opens one websocket per
subscriber (each on its own order, with ``after`` so none can miss its first event),
then changes order statuses at ``rate`` per second over raw asyncpg, exactly as
``change_status`` does (row lock, UPDATE, event row, NOTIFY, in one transaction).

Latency = client receive time - the time COMMIT returned, both on this process's
monotonic clock. Prints p50/p95/p99/max and the lost and duplicated events.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis.asyncio as aioredis
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, api_process, asyncpg_dsn, scratch_database, servers

BENCH_REDIS_DB = 13  # its own database: the relay cursor and channel use default names
QUERY = """
subscription ($orderId: ID, $after: String) {
  orderStatusChanged(orderId: $orderId, after: $after) { cursor status previousStatus occurredAt %s }
}"""
START_CURSOR = base64.urlsafe_b64encode(b"event:0:0").decode()
WALK = ("CONFIRMED", "PARTIALLY_SHIPPED", "SHIPPED", "CLOSED", "CANCELLED", "DRAFT")
CHANGE = """
WITH locked AS (SELECT id, status, customer_id FROM sales_orders WHERE id = $1 FOR UPDATE),
updated AS (UPDATE sales_orders o SET status = $2, updated_at = now() FROM locked
            WHERE o.id = locked.id RETURNING locked.status AS previous, locked.customer_id)
INSERT INTO domain_events (type, entity_type, entity_id, payload, actor)
SELECT 'order.status_changed', 'SalesOrder', $1,
       jsonb_build_object('status', $2::text, 'previousStatus', previous, 'reason', NULL,
                          'customerId', customer_id), 'bench'
FROM updated RETURNING txid::text, id
"""


def bench_redis(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return urlunsplit(parts._replace(query=f"db={BENCH_REDIS_DB}"))
    return urlunsplit(parts._replace(path=f"/{BENCH_REDIS_DB}"))


def global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()


def position(cursor: str) -> tuple[int, int]:
    txid, _, event_id = base64.urlsafe_b64decode(cursor).decode().removeprefix("event:").partition(":")
    return int(txid), int(event_id)


async def seed(url: str, orders: int) -> tuple[str, list[int]]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        customer = await conn.fetchval(
            "INSERT INTO customers (code, name) VALUES ('BENCH', 'Bench') RETURNING id")
        ids = [row["id"] for row in await conn.fetch(
            "INSERT INTO sales_orders (number, customer_id) "
            "SELECT 'SO-' || g, $1 FROM generate_series(1, $2) g RETURNING id", customer, orders)]
    finally:
        await conn.close()
    from domain.identity.services import create_token
    from domain.shared.db import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            token = await create_token(session, "bench", "admin")
    finally:
        await engine.dispose()
    return token, ids


@contextlib.contextmanager
def worker_process(database_url: str, redis_url: str) -> Any:
    env = os.environ | {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "ERPGRAPH_ENV": "production"}
    proc = subprocess.Popen([sys.executable, "-m", "erpgraph.cli", "worker"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class Subscriber:
    def __init__(self, order_id: int, query: str) -> None:
        self.order_id = order_id
        self.query = query
        self.received: list[tuple[tuple[int, int], float]] = []
        self.first = asyncio.Event()
        self.errors: list[Any] = []
        self.ws: Any = None

    async def run(self, ws_url: str, token: str, connected: asyncio.Semaphore) -> None:
        async with connected:
            ws = await websockets.connect(ws_url, subprotocols=["graphql-transport-ws"], max_queue=None)
            await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            variables = {"orderId": global_id("SalesOrder", self.order_id), "after": START_CURSOR}
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": self.query, "variables": variables}}))
        self.ws = ws
        async for raw in ws:
            now = time.perf_counter()
            message = json.loads(raw)
            if message["type"] != "next" or "errors" in message["payload"]:
                self.errors.append(message)
                continue
            event = message["payload"]["data"]["orderStatusChanged"]
            self.received.append((position(event["cursor"]), now))
            self.first.set()


@contextlib.asynccontextmanager
async def subscribed(ws_url: str, token: str, order_ids: list[int], query: str,
                     ) -> AsyncIterator[list[Subscriber]]:
    subscribers = [Subscriber(order_id, query) for order_id in order_ids]
    handshakes = asyncio.Semaphore(50)
    tasks = [asyncio.create_task(s.run(ws_url, token, handshakes)) for s in subscribers]
    try:
        yield subscribers
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failures = Counter(repr(r) for r in results if not isinstance(r, asyncio.CancelledError | None))
        if failures:
            print(f"subscriber failures: {dict(failures)}")
        # close the sockets so the server can stop promptly
        await asyncio.gather(*(s.ws.close() for s in subscribers if s.ws is not None),
                             return_exceptions=True)


async def change(pool: asyncpg.Pool, order_id: int, status: str) -> tuple[tuple[int, int], float]:
    async with pool.acquire() as conn:
        async with conn.transaction():
            row = await conn.fetchrow(CHANGE, order_id, status)
            await conn.execute("SELECT pg_notify('domain_events', '')")
        committed = time.perf_counter()
    return (int(row["txid"]), row["id"]), committed


async def drive(pool: asyncpg.Pool, order_ids: list[int], rate: float, seconds: float,
                start_step: int) -> dict[tuple[int, int], tuple[int, float]]:
    """Status changes at ``rate``/s, round-robin over the orders; position -> (order, commit time)."""
    sent: dict[tuple[int, int], tuple[int, float]] = {}
    tick = 0.05
    per_tick = rate * tick
    total = int(rate * seconds)
    begin = time.perf_counter()
    done = 0
    pending: set[asyncio.Task[None]] = set()

    async def one(n: int) -> None:
        order_id = order_ids[n % len(order_ids)]
        step = start_step + n // len(order_ids)
        pos, committed = await change(pool, order_id, WALK[step % len(WALK)])
        sent[pos] = (order_id, committed)

    while done < total:
        due = min(total, int((time.perf_counter() - begin) / tick * per_tick) + int(per_tick))
        while done < due:
            task = asyncio.create_task(one(done))
            pending.add(task)
            task.add_done_callback(pending.discard)
            done += 1
        await asyncio.sleep(tick)
    await asyncio.gather(*pending)
    return sent


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


async def main(n_subscribers: int, rate: float, seconds: float, with_order: bool) -> None:
    query = QUERY % ("order { id number status }" if with_order else "")
    with servers() as (server_url, redis_base):
        redis_url = bench_redis(redis_base)
        flush = aioredis.Redis.from_url(redis_url)
        await flush.flushdb()
        await flush.aclose()
        async with scratch_database(server_url) as url:
            token, order_ids = await seed(url, n_subscribers)
            order_ids = order_ids[:n_subscribers]
            with worker_process(url, redis_url):
                async with api_process(url, redis_url) as base, \
                        asyncpg.create_pool(asyncpg_dsn(url), min_size=10, max_size=10) as pool:
                    ws_url = base.replace("http", "ws") + "/graphql"
                    t0 = time.perf_counter()
                    async with subscribed(ws_url, token, order_ids, query) as subscribers:
                        # Warm-up: one change per order; every subscriber must see its own.
                        warm = await drive(pool, order_ids, 500, len(order_ids) / 500, 0)
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(
                                asyncio.gather(*(s.first.wait() for s in subscribers)), 60)
                        waiting = [s for s in subscribers if not s.first.is_set()]
                        if waiting:
                            errors = [e for s in subscribers for e in s.errors]
                            print(f"{len(waiting)} subscribers saw no warm-up event; "
                                  f"{len(errors)} errors, first: {errors[:1]}")
                            return
                        print(f"{len(subscribers)} subscribers connected and live in "
                              f"{time.perf_counter() - t0:.1f} s")
                        for s in subscribers:
                            s.received.clear()
                        sent = await drive(pool, order_ids, rate, seconds, 1)
                        await asyncio.sleep(3.0)  # stragglers
                        report(subscribers, sent, rate, seconds)
                        errors = [e for s in subscribers for e in s.errors]
                        if errors:
                            print(f"error messages: {len(errors)}, first: {errors[0]}")
                        assert len(warm) == len(order_ids)


def report(subscribers: list[Subscriber], sent: dict[tuple[int, int], tuple[int, float]],
           rate: float, seconds: float) -> None:
    latencies: list[float] = []
    lost = duplicated = foreign = 0
    expected_by_order: dict[int, set[tuple[int, int]]] = {}
    for pos, (order_id, _) in sent.items():
        expected_by_order.setdefault(order_id, set()).add(pos)
    for s in subscribers:
        counts = Counter(pos for pos, _ in s.received)
        duplicated += sum(c - 1 for c in counts.values())
        expected = expected_by_order.get(s.order_id, set())
        lost += len(expected - counts.keys())
        foreign += len(counts.keys() - expected)
        order = [pos for pos, _ in s.received]
        assert order == sorted(order), f"order {s.order_id}: out of order"
        for pos, received_at in s.received:
            if pos in sent:
                latencies.append(received_at - sent[pos][1])
    print(f"status changes: {len(sent)} in {seconds:.0f} s (target {rate:.0f}/s), "
          f"{len(subscribers)} websocket subscribers, one order each")
    print(f"commit-to-client latency: p50 {pct(latencies, 50):6.1f} ms   p95 {pct(latencies, 95):6.1f} ms   "
          f"p99 {pct(latencies, 99):6.1f} ms   max {max(latencies) * 1000:6.1f} ms   ({len(latencies)} events)")
    print(f"lost: {lost}   duplicated: {duplicated}   unexpected: {foreign}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--with-order", action="store_true",
                        help="also select order { id number status } (one loader query per event)")
    args = parser.parse_args()
    asyncio.run(main(args.subscribers, args.rate, args.seconds, args.with_order))
