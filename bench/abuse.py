"""Abuse benchmark: what oversized input costs the server once the limits are in place.

    .venv/bin/python bench/abuse.py [--customers 50000] [--searchers 25] [--seconds 10]

Uses DATABASE_URL / REDIS_URL when set, embedded servers otherwise; seeds a scratch
database, starts `erpgraph serve` (production mode) in its own process and prints:

- the rejection latency (p50 / p95 over 20 requests) of each oversized input;
- the server's memory (RSS, with its child processes) before and after 100 oversized
  request bodies, and after 100 more;
- the latency of a small query (a customer by code) alone and while ``--searchers``
  clients run the worst search the API still accepts (200 characters, no match, over
  every customer) in a loop (target: p95 under 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import asyncpg_dsn, load, scratch_database, serve_process, servers

MIB = 1024 * 1024
CREATE_CUSTOMER = "mutation($c: CustomerInput!) { createCustomer(input: $c) { errors { code } } }"
CREATE_ORDER = "mutation($o: SalesOrderInput!) { createSalesOrder(input: $o) { errors { code } } }"
SMALL = 'query($code: String) { customer(code: $code) { code name } }'
MAX_LINES = 500  # ERPGRAPH_MAX_LINES's default


async def seed(url: str, customers: int) -> tuple[str, str, str]:
    """``customers`` customers, two items and one order; (admin token, an item id, a customer id)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO customers (code, name, credit_limit) VALUES ($1, $2, 0)",
                [(f"C{i:06d}", f"Customer number {i} of the abuse benchmark") for i in range(customers)],
            )
            await conn.execute("INSERT INTO items (sku, name, kind, procurement, list_price) VALUES "
                               "('ABUSE-1', 'Abuse item', 'RAW_MATERIAL', 'BUY', 1)")
            item = await conn.fetchval("SELECT id FROM items WHERE sku = 'ABUSE-1'")
            customer = await conn.fetchval("SELECT id FROM customers ORDER BY id LIMIT 1")
            # documents as long as ERPGRAPH_MAX_LINES allows: the nested-lists request costs what
            # such data makes it cost (the query cost counts each list's real maximum)
            await long_documents(conn, customer, MAX_LINES)
    finally:
        await conn.close()
    from domain.identity.services import create_token
    from domain.shared.db import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            token = await create_token(session, "abuse", "admin")
    finally:
        await engine.dispose()
    return token, _gid("Item", item), _gid("Customer", customer)


async def long_documents(conn: asyncpg.Connection, customer: int, lines: int) -> None:
    """Order SO-1 with ``lines`` lines of two kits whose BOMs have ``lines`` lines each."""
    parts = [await conn.fetchval(
        "INSERT INTO items (sku, name, kind, procurement) VALUES ($1, $1, 'RAW_MATERIAL', 'BUY') RETURNING id",
        f"ABUSE-P{i}") for i in range(lines)]
    kits = [await conn.fetchval(
        "INSERT INTO items (sku, name, kind, procurement) VALUES ($1, $1, 'FINISHED', 'MAKE') RETURNING id",
        f"ABUSE-K{i}") for i in range(2)]
    for kit in kits:
        await conn.execute("INSERT INTO boms (item_id) VALUES ($1)", kit)
        await conn.executemany(
            "INSERT INTO bom_lines (bom_item_id, position, component_id, quantity) VALUES ($1, $2, $3, 1)",
            [(kit, i, part) for i, part in enumerate(parts)])
    order = await conn.fetchval("INSERT INTO sales_orders (number, customer_id, status) "
                                "VALUES ('SO-1', $1, 'DRAFT') RETURNING id", customer)
    await conn.executemany(
        "INSERT INTO sales_order_lines (order_id, position, item_id, quantity, unit_price, line_total, tax_amount)"
        " VALUES ($1, $2, $3, 1, 1, 1, 0)", [(order, i, kits[i % 2]) for i in range(lines)])


def _gid(kind: str, pk: int) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MiB."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(FileNotFoundError):
                    stack.extend(int(c) for c in (task / "children").read_text().split())
    return total / 1024


def ms(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


async def timed(call: Callable[[], Awaitable[httpx.Response]], check: Callable[[httpx.Response], str],
                times: int = 20) -> tuple[list[float], str]:
    latencies, outcome = [], ""
    for _ in range(times):
        started = time.perf_counter()
        response = await call()
        latencies.append(time.perf_counter() - started)
        outcome = check(response)
    return latencies, outcome


def refusal(response: httpx.Response) -> str:
    """What the server answered: the HTTP status and the first error's code."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} (not JSON)"
    errors = body.get("errors") or []
    if not errors and isinstance(body.get("data"), dict):
        for payload in body["data"].values():
            if isinstance(payload, dict) and payload.get("errors"):
                errors = payload["errors"]
                code = errors[0].get("code")
                return f"{response.status_code} payload {code}"
    code = errors[0].get("extensions", {}).get("code") if errors else "accepted"
    return f"{response.status_code} {code}"


def oversized_inputs(item: str, customer: str) -> list[tuple[str, dict[str, Any] | bytes]]:
    ids = [_gid("Customer", i) for i in range(1, 101_001)]
    nested = "lines { item { bom { lines { component { sku whereUsed { sku } } } } } }"
    return [
        ("body of 2 MiB (Content-Length)", b'{"query": "{ viewer { name } }", "pad": "' + b"x" * 2 * MIB + b'"}'),
        ("search of 201 characters", {"query": "query($s: String) { customers(search: $s) { totalCount } }",
                                      "variables": {"s": "x" * 201}}),
        ("search of 1,000,000 characters", {"query": "query($s: String) { customers(search: $s) { totalCount } }",
                                            "variables": {"s": "x" * 1_000_000}}),
        ("nodes(ids:) with 101 ids", {"query": "query($i: [ID!]!) { nodes(ids: $i) { id } }",
                                      "variables": {"i": ids[:101]}}),
        ("nodes(ids:) with 40,000 ids", {"query": "query($i: [ID!]!) { nodes(ids: $i) { id } }",
                                         "variables": {"i": ids[:40_000]}}),
        ("status list of 101 entries", {"query": "query($s: [OrderStatus!]) { salesOrders(status: $s) { totalCount } }",
                                        "variables": {"s": ["DRAFT"] * 101}}),
        ("document of 6,000 tokens", {"query": "{ viewer { %s } }" % " ".join(["name"] * 6000)}),
        ("variables of 10,000 tokens", {"query": CREATE_CUSTOMER,
                                        "variables": {"c": {"code": "X", "name": "X",
                                                            "contacts": [{"name": "c", "email": "c@x.io"}] * 2000}}}),
        ("order of 501 lines", {"query": CREATE_ORDER,
                                "variables": {"o": {"customerId": customer,
                                                    "lines": [{"itemId": item, "quantity": "1"}] * 501}}}),
        ("nested plain lists, 10 aliases", {"query": "{ " + " ".join(
            f'o{i}: salesOrder(number: "SO-1") {{ {nested} }}' for i in range(10)) + " }"}),
    ]


async def rejection_latencies(http: httpx.AsyncClient, item: str, customer: str) -> list[str]:
    lines = []
    for label, request in oversized_inputs(item, customer):
        if isinstance(request, bytes):
            body = request

            def send(body: bytes = body) -> Awaitable[httpx.Response]:
                return http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        else:
            encoded = json.dumps(request).encode()

            def send(body: bytes = encoded) -> Awaitable[httpx.Response]:
                return http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        latencies, outcome = await timed(send, refusal)
        size = len(request) if isinstance(request, bytes) else len(json.dumps(request))
        lines.append(f"  {label:<34} {size / 1024:9.1f} KiB  -> {outcome:<28} "
                     f"p50 {ms(latencies, 50):7.1f} ms   p95 {ms(latencies, 95):7.1f} ms")
    return lines


async def memory_after_oversized(http: httpx.AsyncClient, pid: int, rounds: int = 100) -> list[str]:
    body = b'{"query": "{ viewer { name } }", "pad": "' + b"x" * 10 * MIB + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 256 * 1024):
            yield body[start:start + 256 * 1024]

    lines = [f"  baseline                            {rss_mib(pid):8.1f} MiB"]
    statuses: set[int] = set()
    for label, streamed in (("Content-Length", False), ("chunked, no length", True)):
        sem = asyncio.Semaphore(10)

        async def one(streamed: bool = streamed, sem: asyncio.Semaphore = sem) -> None:
            async with sem:
                with contextlib.suppress(httpx.TransportError):
                    content: Any = chunks() if streamed else body
                    response = await http.post("/graphql", content=content,
                                               headers={"Content-Type": "application/json"})
                    statuses.add(response.status_code)

        await asyncio.gather(*(one() for _ in range(rounds)))
        await asyncio.sleep(1)
        lines.append(f"  after {rounds} x 10 MiB ({label:<18}) {rss_mib(pid):8.1f} MiB")
    lines.append(f"  (statuses: {sorted(statuses)})")
    return lines


async def small_query_under_search_load(http: httpx.AsyncClient, searchers: int, seconds: float) -> list[str]:
    pattern = "no customer is called like this " * 7  # 224 characters: cut to the 200 allowed
    worst = {"query": "query($s: String) { customers(search: $s, first: 100) { totalCount edges { node { code } } } }",
             "variables": {"s": pattern[:200]}}
    small = {"query": SMALL, "variables": {"code": "C000042"}}
    outcomes: dict[str, int] = {}

    async def measure_small(duration: float) -> list[float]:
        latencies: list[float] = []
        stop = time.perf_counter() + duration
        while time.perf_counter() < stop:
            started = time.perf_counter()
            response = await http.post("/graphql", json=small)
            latencies.append(time.perf_counter() - started)
            assert response.json()["data"]["customer"]["code"] == "C000042", response.text
            await asyncio.sleep(0.02)
        return latencies

    alone = await measure_small(min(seconds, 5))

    async def search(client: int, n: int) -> None:
        response = await http.post("/graphql", json=worst)
        outcome = refusal(response)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    searching = asyncio.create_task(load(searchers, seconds, search, warmup=0.5))
    await asyncio.sleep(0.5)
    loaded = await measure_small(seconds - 0.5)
    figures = await searching
    return [
        f"  small query alone                    p50 {ms(alone, 50):7.1f} ms   p95 {ms(alone, 95):7.1f} ms"
        f"   ({len(alone)} requests)",
        f"  small query, {searchers} searches running   p50 {ms(loaded, 50):7.1f} ms   "
        f"p95 {ms(loaded, 95):7.1f} ms   ({len(loaded)} requests; target p95 < 100 ms)",
        f"  the searches themselves              p50 {figures.pct(50):7.1f} ms   p95 {figures.pct(95):7.1f} ms"
        f"   ({figures.requests} requests: {outcomes})",
    ]


async def main(customers: int, searchers: int, seconds: float) -> None:
    with servers() as (server_url, redis_url):
        async with scratch_database(server_url) as url:
            token, item, customer = await seed(url, customers)
            async with serve_process(url, redis_url) as (base, pid):
                limits = httpx.Limits(max_connections=searchers + 5, max_keepalive_connections=searchers + 5)
                async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120,
                                             headers={"Authorization": f"Bearer {token}"}) as http:
                    await http.post("/graphql", json={"query": "{ viewer { name } }"})  # warm up
                    print(f"abuse: {customers} customers, production mode, one API process, "
                          f"default limits")
                    print("rejection latency of each oversized input (20 requests each):")
                    for line in await rejection_latencies(http, item, customer):
                        print(line, flush=True)
                    print("server memory (RSS of the API process and its children):")
                    for line in await memory_after_oversized(http, pid):
                        print(line, flush=True)
                    print(f"a small query while {searchers} worst-case searches run ({seconds:.0f} s):")
                    for line in await small_query_under_search_load(http, searchers, seconds):
                        print(line, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--searchers", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.customers, args.searchers, args.seconds))
