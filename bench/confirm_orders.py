"""Confirmation benchmark: confirmSalesOrder over HTTP vs one conditional UPDATE over asyncpg.

    .venv/bin/python bench/confirm_orders.py [--skus 1000] [--clients 32] [--seconds 10]

Seeds a scratch database (SKUs, customers without a credit limit, DRAFT single-line
orders created beforehand and not timed), starts `erpgraph serve` (production mode)
in its own process, and with ``--clients`` concurrent HTTP clients confirms orders
(a) spread over ``--skus`` SKUs and (b) all on one hot SKU. In the same run it does
the bare reservation the same number of ways — a single conditional
``UPDATE stock_balances SET reserved = reserved + $qty WHERE ... AND on_hand - reserved >= $qty``
over a raw asyncpg pool — and prints rates, p50/p95, the ratios against the floors
(spread ≥ 5% of raw, hot ≥ 50% of spread) and an oversell check per run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Figures, WrkFigures, api_process, asyncpg_dsn, load, scratch_database, servers, wrk_load

CONFIRM = """
mutation($id: ID!) { confirmSalesOrder(id: $id) { order { status } errors { code message } } }"""
RESERVE = """
UPDATE stock_balances SET reserved = reserved + $1
WHERE item_id = $2 AND warehouse_id = $3 AND on_hand - reserved >= $1"""
CUSTOMERS = 1000
HOT_STOCK = 2000  # less than the hot run confirms: the tail is backordered, never oversold
SPREAD_STOCK = 1_000_000


async def seed(url: str, skus: int, orders_per_run: int) -> dict[str, Any]:
    """Items for each run (GraphQL spread/hot, raw spread/hot), customers, DRAFT orders."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            warehouse = await conn.fetchval(
                "INSERT INTO warehouses (code, name, is_default) VALUES ('MAIN', 'Main', true) RETURNING id")
            groups: dict[str, list[int]] = {}
            for group, count in (("gspread", skus), ("ghot", 1), ("rspread", skus), ("rhot", 1)):
                groups[group] = [r["id"] for r in await conn.fetch(
                    "INSERT INTO items (sku, name, kind, procurement, list_price, lead_time_days) "
                    "SELECT $1 || lpad(g::text, 5, '0'), 'Bench item ' || g, 'FINISHED', 'BUY', 10, 7 "
                    "FROM generate_series(1, $2) g RETURNING id", f"{group.upper()}-", count)]
                stock = HOT_STOCK if group.endswith("hot") else SPREAD_STOCK
                await conn.execute(
                    "INSERT INTO stock_balances (item_id, warehouse_id, on_hand) "
                    "SELECT unnest($1::bigint[]), $2, $3", groups[group], warehouse, stock)
                await conn.execute(
                    "INSERT INTO stock_moves (item_id, warehouse_id, kind, quantity_on_hand, reason) "
                    "SELECT unnest($1::bigint[]), $2, 'ADJUSTMENT', $3, 'bench seed'",
                    groups[group], warehouse, stock)
            customers = [r["id"] for r in await conn.fetch(
                "INSERT INTO customers (code, name) SELECT 'BC' || g, 'Bench customer ' || g "
                "FROM generate_series(1, $1) g RETURNING id", CUSTOMERS)]
            orders: dict[str, list[int]] = {}
            for group in ("gspread", "ghot"):
                items = groups[group]
                rows = [(f"B{group[1]}-{n:07d}", customers[n % CUSTOMERS], items[(n * 7919) % len(items)])
                        for n in range(orders_per_run)]
                ids = [r["id"] for r in await conn.fetch(
                    "INSERT INTO sales_orders (number, customer_id, status, subtotal, tax_total, total) "
                    "SELECT number, customer_id, 'DRAFT', 10, 0, 10 "
                    "FROM unnest($1::text[], $2::bigint[]) AS t(number, customer_id) RETURNING id",
                    [r[0] for r in rows], [r[1] for r in rows])]
                await conn.execute(
                    "INSERT INTO sales_order_lines (order_id, position, item_id, quantity, unit_price, "
                    "line_total, tax_amount) SELECT o, 0, i, 1, 10, 10, 0 "
                    "FROM unnest($1::bigint[], $2::bigint[]) AS t(o, i)", ids, [r[2] for r in rows])
                orders[group] = ids
        return {"warehouse": warehouse, "items": groups, "orders": orders, "customers": customers,
                "token": await create_admin_token(url)}
    finally:
        await conn.close()


async def create_admin_token(url: str) -> str:
    from domain.identity.services import create_token
    from domain.shared.db import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            return await create_token(session, "bench", "admin")
    finally:
        await engine.dispose()


def global_id(type_name: str, pk: int) -> str:
    from api.relay import to_global_id

    return to_global_id(type_name, pk)


async def graphql_run(http: httpx.AsyncClient, order_ids: list[int], clients: int,
                      seconds: float) -> tuple[Figures, int]:
    queue = iter(order_ids)
    confirmed = 0

    async def call(client: int, n: int) -> None:
        nonlocal confirmed
        order = next(queue)  # StopIteration: seed more orders (--orders)
        response = await http.post("/graphql", json={"query": CONFIRM,
                                                     "variables": {"id": global_id("SalesOrder", order)}})
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        payload = body["data"]["confirmSalesOrder"]
        assert payload["errors"] == [] and payload["order"]["status"] == "CONFIRMED", payload
        confirmed += 1

    figures = await load(clients, seconds, call)
    return figures, confirmed


async def graphql_wrk_run(base: str, token: str, order_ids: list[int], clients: int,
                          seconds: float) -> tuple[WrkFigures, int]:
    bodies = [json.dumps({"query": CONFIRM, "variables": {"id": global_id("SalesOrder", order)}})
              for order in order_ids]
    figures = await wrk_load(base + "/graphql", token, bodies, '"status":"CONFIRMED"', clients, seconds)
    if figures.failed:
        raise RuntimeError(f"{figures.failed} confirmations did not come back CONFIRMED")
    return figures, figures.requests


async def raw_run(pool: asyncpg.Pool, items: list[int], warehouse: int, clients: int,
                  seconds: float) -> tuple[Figures, int]:
    counter = itertools.count()
    reserved = 0

    async def call(client: int, n: int) -> None:
        nonlocal reserved
        item = items[(next(counter) * 7919) % len(items)]
        status = await pool.execute(RESERVE, 1, item, warehouse)
        reserved += status == "UPDATE 1"

    figures = await load(clients, seconds, call)
    return figures, reserved


# One statement, so one snapshot: the server may still be committing requests wrk gave up
# on, and balances and moves read apart could straddle such a commit.
CHECK = """
SELECT (SELECT count(*) FROM stock_balances WHERE item_id = ANY($1) AND reserved > on_hand) AS over,
       (SELECT coalesce(sum(reserved), 0) FROM stock_balances WHERE item_id = ANY($1)) AS reserved,
       (SELECT coalesce(sum(quantity_reserved), 0) FROM stock_moves
         WHERE item_id = ANY($1) AND kind = 'RESERVE') AS moves
"""


async def oversell_check(pool: asyncpg.Pool, label: str, items: list[int], raw_reserved: int | None) -> str:
    over, reserved, moves = await pool.fetchrow(CHECK, items)
    if raw_reserved is None:
        ok = over == 0 and moves == reserved
        detail = f"sum(RESERVE moves) {moves} == reserved {reserved}"
    else:
        ok = over == 0 and raw_reserved == reserved
        detail = f"successful UPDATEs {raw_reserved} == reserved {reserved}"
    return f"  oversell check {label:<12} {'OK ' if ok else 'FAIL'}  balances with reserved > on_hand: {over}; {detail}"


async def allocation_run(url: str, customer_id: int, warehouse: int, lines: int = 1000) -> str:
    """Backordered lines filled per second: ``lines`` confirmed single-unit lines of one item
    wait; a receipt of ``lines`` units commits; one ``allocate_stock`` job's work is timed
    (what the worker runs a moment after the receipt, without arq's pick-up delay)."""
    import time
    from datetime import date, timedelta

    from domain.inventory import ledger
    from domain.sales.backorders import allocate_backorders
    from domain.shared.db import make_engine, make_sessionmaker
    from domain.shared.unit_of_work import unit_of_work

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        item = await conn.fetchval(
            "INSERT INTO items (sku, name, kind, procurement, list_price, lead_time_days) "
            "VALUES ('ALLOC-1', 'Allocation bench item', 'FINISHED', 'BUY', 10, 7) RETURNING id")
        ids = [r["id"] for r in await conn.fetch(
            "INSERT INTO sales_orders (number, customer_id, status, subtotal, tax_total, total) "
            "SELECT 'BA-' || lpad(g::text, 7, '0'), $1, 'CONFIRMED', 10, 0, 10 "
            "FROM generate_series(1, $2) g RETURNING id", customer_id, lines)]
        await conn.execute(
            "INSERT INTO sales_order_lines (order_id, position, item_id, quantity, unit_price, line_total, "
            "tax_amount, promised_date) SELECT o, 0, $2, 1, 10, 10, 0, $3 FROM unnest($1::bigint[]) AS t(o)",
            ids, item, date.today() + timedelta(days=7))
    finally:
        await conn.close()
    engine = make_engine(url, pool_size=2)
    try:
        sessionmaker = make_sessionmaker(engine)
        async with unit_of_work(sessionmaker, actor="bench") as uow:
            await ledger.post(uow.session, item_id=item, warehouse_id=warehouse, kind="RECEIPT",
                              on_hand=Decimal(lines), unit_cost=Decimal(1), actor="bench")
        began = time.perf_counter()
        async with unit_of_work(sessionmaker, actor="bench") as uow:
            filled = await allocate_backorders(uow.session, [item], today=uow.today, source="bench receipt")
        took = time.perf_counter() - began
    finally:
        await engine.dispose()
    assert len(filled) == lines, len(filled)
    return (f"allocation: {lines:,} backordered lines filled from one receipt in {took:.2f} s "
            f"({lines / took:,.0f} lines/s, one allocate_stock job)")


async def main(skus: int, clients: int, seconds: float, orders_per_run: int, api_workers: int) -> None:
    results: dict[str, Figures | WrkFigures] = {}
    use_wrk = shutil.which("wrk") is not None
    checks: list[str] = []
    notes: list[str] = []
    with servers() as (server_url, redis_url):
        async with scratch_database(server_url) as url:
            seeded = await seed(url, skus, orders_per_run)
            items, warehouse = seeded["items"], seeded["warehouse"]
            pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=2, max_size=clients)
            try:
                async with api_process(url, redis_url, api_workers) as base:
                    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
                    async with httpx.AsyncClient(
                        base_url=base, limits=limits, timeout=120,
                        headers={"Authorization": f"Bearer {seeded['token']}"},
                    ) as http:
                        for label, group in (("spread", "gspread"), ("hot", "ghot")):
                            if use_wrk:
                                figures, done = await graphql_wrk_run(
                                    base, seeded["token"], seeded["orders"][group], clients, seconds)
                            else:
                                figures, done = await graphql_run(
                                    http, seeded["orders"][group], clients, seconds)
                            results[f"graphql {label}"] = figures
                            checks.append(await oversell_check(pool, f"graphql {label}", items[group], None))
                            notes.append(f"  graphql {label}: {done} orders confirmed")
                allocation = await allocation_run(url, seeded["customers"][0], warehouse)
                for label, group in (("spread", "rspread"), ("hot", "rhot")):
                    figures, done = await raw_run(pool, items[group], warehouse, clients, seconds)
                    results[f"raw {label}"] = figures
                    checks.append(await oversell_check(pool, f"raw {label}", items[group], done))
                    notes.append(f"  raw {label}: {done} reservations made (warm-up included); "
                                 "the rest found too little stock")
            finally:
                await pool.close()

    print(f"confirm_orders: {skus} SKUs spread vs 1 hot SKU ({HOT_STOCK} in stock), "
          f"{CUSTOMERS} customers without limit, {clients} concurrent clients, {seconds:.0f} s per run, "
          f"{api_workers} API worker(s); "
          f"HTTP load from {'wrk' if use_wrk else 'httpx in this process (install wrk for less noise)'}")
    labels = {"graphql spread": "GraphQL confirm, spread SKUs", "graphql hot": "GraphQL confirm, hot SKU",
              "raw spread": "raw UPDATE, spread SKUs", "raw hot": "raw UPDATE, hot SKU"}
    for key, label in labels.items():
        print(results[key].line(label))
    spread_ratio = results["graphql spread"].rate / results["raw spread"].rate
    hot_ratio = results["graphql hot"].rate / results["graphql spread"].rate
    raw_hot_ratio = results["raw hot"].rate / results["raw spread"].rate
    print(f"ratio GraphQL spread / raw spread: {spread_ratio:.3f}  (floor 0.05: "
          f"{'OK' if spread_ratio >= 0.05 else 'BELOW'})")
    print(f"ratio GraphQL hot / GraphQL spread: {hot_ratio:.3f}  (floor 0.50: "
          f"{'OK' if hot_ratio >= 0.5 else 'BELOW'})")
    print(f"ratio raw hot / raw spread: {raw_hot_ratio:.3f}")
    print(allocation)
    print("\n".join(notes))
    print("\n".join(checks))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--orders", type=int, default=20_000, help="DRAFT orders seeded per GraphQL run")
    parser.add_argument("--api-workers", type=int, default=os.cpu_count() or 1,
                        help="uvicorn worker processes (default: one per core, as deployed)")
    args = parser.parse_args()
    asyncio.run(main(args.skus, args.clients, args.seconds, args.orders, args.api_workers))
