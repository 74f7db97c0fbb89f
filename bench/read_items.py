"""Read benchmark (issue 14): three query shapes, erpgraph compiled and resolver paths,
PostGraphile 4 and one raw `json_agg` query each, on one seeded database.

    .venv/bin/python bench/read_items.py [--items 1000] [--clients 16] [--seconds 15]
        [--shapes items,customers,customer-orders] [--paths a,b,c,d]

Paths: (a) `erpgraph serve` with ERPGRAPH_COMPILED_READS=1, skipped unless its responses
say `x-erpgraph-read-path: compiled`; (b) the same with ERPGRAPH_COMPILED_READS=0, the
resolver path; (c) PostGraphile 4 from npm (bench/postgraphile.py; skipped without
node); (d) the hand-written SQL over an in-process asyncpg pool. (a)-(c) are loaded by
wrk (`scripts/install-bench-tools`), one server process each. Uses DATABASE_URL /
REDIS_URL when set, embedded servers otherwise; seeds a scratch database and prints
req/s, p50, p95 and the ratios to PostGraphile and to the resolver path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import postgraphile
import pyspy
from common import Figures, WrkFigures, asyncpg_dsn, load, scratch_database, serve_process, servers, wrk_load

# The three shapes as erpgraph serves them; the differential test of the compiled path
# imports these.
ITEMS_PAGE = """
query($after: String) {
  items(first: 100, after: $after) {
    pageInfo { endCursor hasNextPage }
    edges { node {
      id sku name onHand available
      bom { outputQuantity lines { quantity scrapRate component { sku } } }
      stock { warehouse { code } onHand reserved available }
    } }
  }
}"""

CUSTOMERS_PAGE = """
query($after: String) {
  customers(first: 20, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { node { id code name email phone creditLimit paymentTermsDays } }
  }
}"""

CUSTOMER_ORDERS = """
query($code: String!) {
  customer(code: $code) {
    id code name
    orders(first: 20) {
      totalCount
      pageInfo { endCursor hasNextPage }
      edges { node {
        id number status total
        lines { quantity unitPrice lineTotal item { sku name } }
      } }
    }
  }
}"""

# The same shapes in PostGraphile's schema (bench/postgraphile.py): its names, its
# `Cursor` type, orderBy spelled out (it does not sort by default), plain lists nested.
PG_ITEMS_PAGE = """
query($after: Cursor) {
  allItems(first: 100, after: $after, orderBy: PRIMARY_KEY_ASC) {
    pageInfo { endCursor hasNextPage }
    edges { node {
      id sku name onHand available
      bomByItemId { outputQuantity bomLinesByBomItemIdList(orderBy: POSITION_ASC) {
        quantity scrapRate itemByComponentId { sku } } }
      stockBalancesByItemIdList(orderBy: WAREHOUSE_ID_ASC) {
        warehouseByWarehouseId { code } onHand reserved available }
    } }
  }
}"""

PG_CUSTOMERS_PAGE = CUSTOMERS_PAGE.replace("String", "Cursor").replace(
    "customers(first: 20, after: $after)", "allCustomers(first: 20, after: $after, orderBy: PRIMARY_KEY_ASC)")

PG_CUSTOMER_ORDERS = """
query($code: String!) {
  customerByCode(code: $code) {
    id code name
    salesOrdersByCustomerId(first: 20, orderBy: PRIMARY_KEY_ASC) {
      totalCount
      pageInfo { endCursor hasNextPage }
      edges { node {
        id number status total
        salesOrderLinesByOrderIdList(orderBy: POSITION_ASC) {
          quantity unitPrice lineTotal itemByItemId { sku name } }
      } }
    }
  }
}"""

RAW_ITEMS = """
SELECT json_agg(row_to_json(x) ORDER BY x.id) FROM (
  SELECT i.id, i.sku, i.name,
    (SELECT coalesce(sum(s.on_hand), 0) FROM stock_balances s WHERE s.item_id = i.id) AS on_hand,
    (SELECT coalesce(sum(s.on_hand - s.reserved), 0) FROM stock_balances s WHERE s.item_id = i.id) AS available,
    (SELECT json_build_object('outputQuantity', b.output_quantity, 'lines',
              (SELECT json_agg(json_build_object('quantity', l.quantity, 'scrapRate', l.scrap_rate,
                                                 'sku', c.sku) ORDER BY l.position)
                 FROM bom_lines l JOIN items c ON c.id = l.component_id WHERE l.bom_item_id = i.id))
       FROM boms b WHERE b.item_id = i.id) AS bom,
    (SELECT json_agg(json_build_object('code', w.code, 'onHand', s.on_hand, 'reserved', s.reserved,
                                       'available', s.on_hand - s.reserved) ORDER BY w.id)
       FROM stock_balances s JOIN warehouses w ON w.id = s.warehouse_id WHERE s.item_id = i.id) AS stock
  FROM items i WHERE i.id > $1 ORDER BY i.id LIMIT 100
) x
"""

RAW_CUSTOMERS = """
SELECT json_build_object('totalCount', (SELECT count(*) FROM customers), 'nodes',
  (SELECT json_agg(json_build_object('id', c.id, 'code', c.code, 'name', c.name, 'email', c.email,
                                     'phone', c.phone, 'creditLimit', c.credit_limit,
                                     'paymentTermsDays', c.payment_terms_days) ORDER BY c.id)
     FROM (SELECT * FROM customers WHERE id > $1 ORDER BY id LIMIT 20) c))
"""

RAW_CUSTOMER_ORDERS = """
SELECT json_build_object('id', c.id, 'code', c.code, 'name', c.name, 'orders', json_build_object(
  'totalCount', (SELECT count(*) FROM sales_orders o WHERE o.customer_id = c.id),
  'nodes', (SELECT coalesce(json_agg(json_build_object(
      'id', o.id, 'number', o.number, 'status', o.status, 'total', o.total,
      'lines', (SELECT coalesce(json_agg(json_build_object(
                  'quantity', l.quantity, 'unitPrice', l.unit_price, 'lineTotal', l.line_total,
                  'item', json_build_object('sku', i.sku, 'name', i.name)) ORDER BY l.position), '[]')
                FROM sales_order_lines l JOIN items i ON i.id = l.item_id WHERE l.order_id = o.id)
    ) ORDER BY o.id), '[]')
    FROM (SELECT * FROM sales_orders WHERE customer_id = c.id ORDER BY id LIMIT 20) o)))
FROM customers c WHERE c.code = $1
"""


@dataclass(frozen=True)
class Shape:
    """One query shape in the three forms measured, and how its requests vary: pages of
    ``table`` (connection fields given) or one request per customer with orders."""

    name: str
    erpgraph: str
    postgraphile: str
    raw: str
    connection: tuple[str, str] | None  # (erpgraph field, PostGraphile field) paged through
    table: str = ""
    page: int = 0


SHAPES = {
    "items": Shape("items", ITEMS_PAGE, PG_ITEMS_PAGE, RAW_ITEMS, ("items", "allItems"), "items", 100),
    "customers": Shape("customers", CUSTOMERS_PAGE, PG_CUSTOMERS_PAGE, RAW_CUSTOMERS,
                       ("customers", "allCustomers"), "customers", 20),
    "customer-orders": Shape("customer-orders", CUSTOMER_ORDERS, PG_CUSTOMER_ORDERS,
                             RAW_CUSTOMER_ORDERS, None),
}
PATHS = {"a": "(a) erpgraph compiled", "b": "(b) erpgraph resolvers", "c": "(c) PostGraphile 4",
         "d": "(d) raw json_agg (asyncpg)"}
READ_PATH = "x-erpgraph-read-path"
PROFILES: list[tuple[str, list[str]]] = []  # (shape, py-spy summary) of --profile
CUSTOMERS, BUYERS, ORDERS_EACH = 200, 50, 24  # BUYERS customers with ORDERS_EACH confirmed orders


async def seed(url: str, n_items: int) -> tuple[str, list[str]]:
    """n_items items: a quarter FINISHED with 4-line BOMs, stock in two warehouses;
    CUSTOMERS customers, the first BUYERS with ORDERS_EACH confirmed orders of 3-4 lines.
    Returns an admin token and the codes of the customers with orders."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await conn.execute("INSERT INTO warehouses (code, name, is_default) VALUES "
                               "('MAIN', 'Main', true), ('EAST', 'East', false)")
            raw_n = n_items - n_items // 4
            await conn.executemany(
                "INSERT INTO items (sku, name, kind, procurement, list_price) VALUES ($1, $2, $3, $4, $5)",
                [(f"RAW-{i:05d}", f"Raw material {i}", "RAW_MATERIAL", "BUY", Decimal("2.50"))
                 for i in range(raw_n)]
                + [(f"FG-{i:05d}", f"Finished good {i}", "FINISHED", "MAKE", Decimal("99.00"))
                   for i in range(n_items - raw_n)],
            )
            ids = [r["id"] for r in await conn.fetch("SELECT id, kind FROM items ORDER BY id")]
            raw, finished = ids[:raw_n], ids[raw_n:]
            await conn.executemany("INSERT INTO boms (item_id) VALUES ($1)", [(f,) for f in finished])
            await conn.executemany(
                "INSERT INTO bom_lines (bom_item_id, component_id, position, quantity) VALUES ($1, $2, $3, $4)",
                [(f, raw[(n * 7 + k * 13) % raw_n], k, Decimal(k + 1))
                 for n, f in enumerate(finished) for k in range(4)],
            )
            await conn.executemany(
                "INSERT INTO stock_balances (item_id, warehouse_id, on_hand) "
                "SELECT $1, id, 100 FROM warehouses", [(i,) for i in ids])
            codes = await seed_orders(conn, finished)
        return await create_admin_token(url), codes
    finally:
        await conn.close()


async def seed_orders(conn: asyncpg.Connection, items: list[int]) -> list[str]:
    """The customers and their confirmed orders, priced as domain.sales.pricing would
    price them without discount or tax."""
    codes = [f"C-{n:05d}" for n in range(CUSTOMERS)]
    await conn.executemany(
        "INSERT INTO customers (code, name, email, phone, credit_limit, payment_terms_days) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        [(code, f"Customer {n}", f"buyer{n}@example.com", f"+49 30 {n:07d}", Decimal(50_000), 30)
         for n, code in enumerate(codes)])
    price = Decimal("99.00")
    orders, lines = [], []
    for c, code in enumerate(codes[:BUYERS]):
        for k in range(ORDERS_EACH):
            n = c * ORDERS_EACH + k
            order_lines = [(items[(n * 5 + p * 11) % len(items)], Decimal(p + 1)) for p in range(3 + n % 2)]
            total = sum((q * price for _, q in order_lines), Decimal(0))
            orders.append((f"SO-{n:06d}", code, total))
            lines += [(f"SO-{n:06d}", p, item, q, price, q * price) for p, (item, q) in enumerate(order_lines)]
    await conn.executemany(
        "INSERT INTO sales_orders (number, customer_id, status, subtotal, tax_total, total) "
        "SELECT $1, id, 'CONFIRMED', $3, 0, $3 FROM customers WHERE code = $2", orders)
    await conn.executemany(
        "INSERT INTO sales_order_lines (order_id, position, item_id, quantity, unit_price, line_total, tax_amount) "
        "SELECT id, $2, $3, $4, $5, $6, 0 FROM sales_orders WHERE number = $1", lines)
    return codes[:BUYERS]


async def create_admin_token(url: str) -> str:
    from domain.identity.services import create_token
    from domain.shared.db import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            return await create_token(session, "bench", "admin")
    finally:
        await engine.dispose()


async def request_bodies(endpoint: str, token: str, query: str, connection: str | None,
                         codes: list[str]) -> tuple[list[str], set[str | None]]:
    """Every distinct request of a shape (each page of the connection, or each customer),
    sent once to check it answers without errors; the read paths the server reported."""
    bodies: list[str] = []
    served: set[str | None] = set()
    pending: list[dict[str, str | None]] = [{"after": None}] if connection else [{"code": c} for c in codes]
    async with httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {token}",
                                                      "Content-Type": "application/json"}) as http:
        while pending:
            body = json.dumps({"query": query, "variables": pending.pop(0)})
            response = await http.post(endpoint, content=body)
            answer = response.json()
            if response.status_code != 200 or answer.get("errors") or not answer.get("data"):
                raise RuntimeError(f"{endpoint}: {response.status_code} {response.text[:800]}")
            bodies.append(body)
            served.add(response.headers.get(READ_PATH))
            if connection and (info := answer["data"][connection]["pageInfo"])["hasNextPage"]:
                pending.append({"after": info["endCursor"]})
    return bodies, served


Measured = WrkFigures | Figures | str  # a string: why the path was skipped


async def over_http(endpoint: str, token: str, shapes: list[Shape], system: int, codes: list[str],
                    clients: int, seconds: float, compiled: bool | None = None,
                    profile: int | None = None) -> dict[str, Measured]:
    """wrk against one server for each shape (``system``: 0 erpgraph, 1 PostGraphile);
    ``compiled`` says which read path erpgraph must report."""
    measured: dict[str, Measured] = {}
    for shape in shapes:
        query = (shape.erpgraph, shape.postgraphile)[system]
        field = shape.connection[system] if shape.connection else None
        bodies, served = await request_bodies(endpoint, token, query, field, codes)
        if compiled and served != {"compiled"}:
            measured[shape.name] = "(a) skipped: compiled path not in this build"
            continue
        if compiled is False and served not in ({None}, {"resolvers"}):
            raise RuntimeError(f"ERPGRAPH_COMPILED_READS=0 but {READ_PATH}: {served}")
        load = wrk_load(endpoint, token, bodies, '"pageInfo"', clients, seconds, each_once=False)
        if profile is None:
            figures = await load
        else:  # py-spy on the server (pid ``profile``) while wrk runs: its figures are lower for it
            figures, samples = await asyncio.gather(load, pyspy.record(profile, max(seconds - 2, 1)))
            PROFILES.append((shape.name, pyspy.summary(samples)))
        if figures.failed:
            raise RuntimeError(f"{shape.name}: {figures.failed} failed responses from {endpoint}")
        measured[shape.name] = figures
    return measured


async def raw_sql(url: str, shapes: list[Shape], codes: list[str], clients: int,
                  seconds: float) -> dict[str, Measured]:
    """Each shape's hand-written statement over an in-process asyncpg pool."""
    measured: dict[str, Measured] = {}
    pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=clients, max_size=clients)
    try:
        for shape in shapes:
            args: list[object] = list(codes)
            if shape.connection:  # the id each page starts after
                args = [0] + [r["id"] for r in await pool.fetch(
                    f"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM {shape.table}) t "
                    f"WHERE n % {shape.page} = 0 AND n < (SELECT count(*) FROM {shape.table}) ORDER BY id")]

            async def call(client: int, n: int, shape: Shape = shape, args: list[object] = args) -> None:
                assert await pool.fetchval(shape.raw, args[(client + n) % len(args)]) is not None

            measured[shape.name] = await load(clients, seconds, call)
    finally:
        await pool.close()
    return measured


@contextlib.asynccontextmanager
async def erpgraph(url: str, redis_url: str, compiled: bool) -> AsyncIterator[tuple[str, int]]:
    # no access log: PostGraphile runs with --disable-query-log
    settings = {"ERPGRAPH_COMPILED_READS": "1" if compiled else "0", "ERPGRAPH_ACCESS_LOG": "0"}
    async with serve_process(url, redis_url, settings=settings) as (base, pid):
        yield base + "/graphql", pid


def figures(measured: Measured) -> tuple[float, float, float]:
    """(req/s, p50 ms, p95 ms) of a wrk or an in-process run."""
    if isinstance(measured, WrkFigures):
        return measured.rate, measured.p50_ms, measured.p95_ms
    assert isinstance(measured, Figures)
    return measured.rate, measured.pct(50), measured.pct(95)


def table(results: dict[str, dict[str, Measured]], shapes: list[Shape]) -> list[str]:
    out = [f"{'shape':<16} {'path':<28} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
           f"{'/PostGraphile':>13} {'/resolvers':>10}"]
    for shape in shapes:
        rates = {p: figures(m)[0] for p, by in results.items()
                 if not isinstance(m := by.get(shape.name, ""), str)}
        for path, by in results.items():
            measured = by.get(shape.name)
            if measured is None:
                continue
            if isinstance(measured, str):
                out.append(f"{shape.name:<16} {PATHS[path]:<28} {measured}")
                continue
            rate, p50, p95 = figures(measured)
            ratios = [f"{rate / rates[ref]:.2f}" if ref in rates else "-" for ref in ("c", "b")]
            out.append(f"{shape.name:<16} {PATHS[path]:<28} {rate:9.1f} {p50:8.1f} {p95:8.1f} "
                       f"{ratios[0]:>13} {ratios[1]:>10}")
    return out


async def main(n_items: int, clients: int, seconds: int, shapes: list[Shape], paths: list[str],
               profile: bool = False) -> None:
    results: dict[str, dict[str, Measured]] = {}
    no_wrk = "skipped: wrk not found (scripts/install-bench-tools)" if shutil.which("wrk") is None else None
    with servers() as (server_url, redis_url):
        async with scratch_database(server_url) as url:
            token, codes = await seed(url, n_items)
            for path in paths:
                skipped = no_wrk if path != "d" else None
                if path == "c" and skipped is None:
                    skipped = postgraphile.missing()
                if skipped:
                    results[path] = {s.name: f"{PATHS[path][:3]} {skipped}" for s in shapes}
                elif path in ("a", "b"):
                    async with erpgraph(url, redis_url, compiled=path == "a") as (endpoint, pid):
                        results[path] = await over_http(endpoint, token, shapes, 0, codes, clients, seconds,
                                                        compiled=path == "a",
                                                        profile=pid if profile and path == "a" else None)
                elif path == "c":
                    async with postgraphile.postgraphile(url) as endpoint:
                        results[path] = await over_http(endpoint, token, shapes, 1, codes, clients, seconds)
                else:
                    results[path] = await raw_sql(url, shapes, codes, clients, seconds)

    print(f"read_items: {n_items} items ({n_items // 4} with 4-line BOMs), stock in 2 warehouses; "
          f"{CUSTOMERS} customers, {BUYERS} with {ORDERS_EACH} confirmed orders of 3-4 lines; "
          f"{clients} connections, {seconds:.0f} s per shape and path, one server process each")
    print("\n".join(table(results, shapes)))
    for name, lines in PROFILES:
        print(f"\npy-spy, (a) compiled, {name}:")
        print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated, of {', '.join(SHAPES)}")
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated, of a, b, c, d")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy on the compiled server while wrk runs (its req/s are lower for it)")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.shapes.split(",") if s.strip()]
    ways = [p.strip() for p in args.paths.split(",") if p.strip()]
    if unknown := [s for s in chosen if s not in SHAPES] + [p for p in ways if p not in PATHS]:
        parser.error(f"unknown shape or path: {', '.join(unknown)}")
    if args.profile and (why := pyspy.missing()):
        parser.error(why)
    asyncio.run(main(args.items, args.clients, args.seconds, [SHAPES[s] for s in chosen], ways, args.profile))
