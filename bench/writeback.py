"""ERP writeback benchmark: confirmed orders written back to a local Tryton, against proteus.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/writeback.py [--orders 1000] [--workers 1 2]

Uses DATABASE_URL / REDIS_URL when set, embedded servers otherwise. Needs the ``tryton``
extra. Not timed: the Tryton template (``erpgraph.tryton_local``, kept in
``.erpgraph/bench-tryton``), and one seeded erpgraph database, made through the domain
services so that every record has its real events: 50 customers, 20 stocked items and
``--orders`` orders of 3 lines, confirmed (stock reserved). It is the template of every run.

For each ``--workers`` N: a copy of the seeded database, a fresh copy of the Tryton database
on its own trytond, a Redis database of its own (flushed) and a queue of its own; N
``erpgraph worker`` processes start, their relay reads the events from the start and the
writeback writes customers, items and orders. Timed from the workers' start until every
order's writeback row is SYNCED (or FAILED), then checked in Tryton: one confirmed sale per
order, with its 3 lines.

Then the same parties (with an address), products and sales made with proteus, Tryton's own
client library, over XML-RPC to another fresh copy, one record after the other: quoted and
confirmed, invoice and shipment method manual like the connector's. The figure is the ratio
of orders/s, ours / proteus (target >= 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Spawned, asyncpg_dsn, erpgraph_process, servers, with_database

import domain.shared.models  # noqa: F401  # every mapped class, so the ORM can configure
from domain.crm.services import NewCustomer, create_customer
from domain.integration.erp.connector import PartyData, ProductData, SaleData, SaleLineData
from domain.integration.erp.tryton import TrytonConnector
from domain.inventory.services import NewItem, StockAdjustment, adjust_stock, create_item, create_warehouse
from domain.sales.orders import NewLine, NewOrder, confirm_order, create_order
from domain.shared.db import make_engine, make_sessionmaker
from erpgraph.migrate import upgrade
from erpgraph.tryton_local import LocalTryton, build_template

CUSTOMERS = 50
ITEMS = 20
LINES = 3
STOCK = Decimal(1_000_000)  # far more than the orders reserve: every line is reserved in full
ACTOR = "bench"
TRYTON_DIR = ROOT / ".erpgraph" / "bench-tryton"
SEED_DATABASE = "erpgraph_bench_writeback_seed"
# Tryton moves a confirmed sale on to processing at once (no shipment or invoice to wait for)
CONFIRMED = ("confirmed", "processing")
# our "pcs" is Tryton's Unit (docs/erp-writeback.md)
TRYTON_UNIT = "u"
TARGET = 0.8


@dataclass(frozen=True)
class Line:
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class Order:
    number: str
    customer: str
    sale_date: date
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Seeded:
    """What the seeded database holds, as proteus needs it."""

    customers: list[asyncpg.Record]  # code, name, email
    items: list[asyncpg.Record]  # sku, name, list_price
    orders: list[Order]
    seconds: float


@dataclass(frozen=True)
class Result:
    """One path's run: ``rate`` is orders per second."""

    path: str
    workers: int | None
    seconds: float
    rate: float
    note: str


# ----------------------------------------------------------------------------- seeding


async def seed(url: str, orders: int) -> None:
    """Customers, stocked items and confirmed orders, each command in its own transaction."""
    engine = make_engine(url, pool_size=1)
    sessionmaker = make_sessionmaker(engine)
    today = date.today()
    try:
        async with sessionmaker.begin() as session:
            warehouse = await create_warehouse(session, "MAIN", "Main warehouse", is_default=True, actor=ACTOR)
        customers, items = [], []
        for i in range(CUSTOMERS):
            async with sessionmaker.begin() as session:
                customer = await create_customer(session, NewCustomer(
                    code=f"WB-C{i:03d}", name=f"Writeback customer {i}", email=f"buyer{i}@example.com",
                ), ACTOR)
                customers.append(customer.id)
        for i in range(ITEMS):
            async with sessionmaker.begin() as session:
                item = await create_item(session, NewItem(
                    sku=f"WB-I{i:03d}", name=f"Writeback item {i}", kind="FINISHED", procurement="BUY",
                    uom="pcs", list_price=Decimal(f"{4 + i}.25"),
                ), ACTOR)
                await adjust_stock(session, StockAdjustment(item.id, STOCK, "bench stock", warehouse.id), ACTOR)
                items.append(item.id)
        for n in range(orders):
            # three different items per order, prices off the list price by a little
            lines = [
                NewLine(item_id=items[(n + 7 * k) % ITEMS], quantity=Decimal(1 + (n + k) % 9),
                        unit_price=Decimal(f"{4 + (n + 7 * k) % ITEMS}.{(n * 37 + k) % 100:02d}"))
                for k in range(LINES)
            ]
            async with sessionmaker.begin() as session:
                order = await create_order(session, NewOrder(customer_id=customers[n % CUSTOMERS], lines=lines), ACTOR)
                await confirm_order(session, order.id, today=today, max_days_overdue=30, actor=ACTOR)
    finally:
        await engine.dispose()


async def read_seeded(conn: asyncpg.Connection, seconds: float) -> Seeded:
    customers = await conn.fetch("SELECT code, name, email FROM customers ORDER BY id")
    items = await conn.fetch("SELECT sku, name, list_price, uom FROM items ORDER BY id")
    assert {item["uom"] for item in items} == {"pcs"}, "the proteus path makes every product in Tryton's Unit"
    rows = await conn.fetch(
        """
        SELECT o.number, o.status, o.currency, o.created_at, c.code, i.sku, i.name, l.quantity, l.unit_price,
               l.discount_percent
        FROM sales_orders o JOIN customers c ON c.id = o.customer_id
        JOIN sales_order_lines l ON l.order_id = o.id JOIN items i ON i.id = l.item_id
        ORDER BY o.id, l.position
        """
    )
    orders: dict[str, Order] = {}
    for row in rows:
        # what the connector sends as it is: no discount, the company's currency
        assert row["status"] == "CONFIRMED" and row["currency"] == "EUR" and row["discount_percent"] == 0, dict(row)
        line = Line(row["sku"], row["name"], row["quantity"], row["unit_price"])
        order = orders.get(row["number"])
        orders[row["number"]] = Order(
            row["number"], row["code"], row["created_at"].date(), (*(order.lines if order else ()), line)
        )
    return Seeded(list(customers), list(items), list(orders.values()), seconds)


async def make_seed(admin: asyncpg.Connection, server_url: str, orders: int) -> Seeded:
    await admin.execute(f'DROP DATABASE IF EXISTS "{SEED_DATABASE}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{SEED_DATABASE}"')
    url = with_database(server_url, SEED_DATABASE)
    began = time.perf_counter()
    await asyncio.to_thread(upgrade, url)
    await seed(url, orders)
    seconds = time.perf_counter() - began
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await read_seeded(conn, seconds)
    finally:
        await conn.close()


# ------------------------------------------------------------------------ our writeback


def redis_database(url: str, index: int) -> str:
    """The Redis URL with database ``index`` (``redis://host/N`` or ``unix://path?db=N``)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query)) | {"db": str(index)}
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(path=f"/{index}"))


_PROGRESS = """
SELECT count(*) FILTER (WHERE status = 'SYNCED' AND entity_type = 'SalesOrder') AS synced,
       count(*) FILTER (WHERE status = 'FAILED' AND entity_type = 'SalesOrder') AS failed,
       count(*) FILTER (WHERE status = 'FAILED') AS failed_any,
       count(*) FILTER (WHERE attempts > 1) AS retried,
       count(*) AS rows
FROM external_refs WHERE writeback
"""


async def wait_for_writeback(conn: asyncpg.Connection, orders: int, workers: Sequence[Spawned],
                             timeout_s: float) -> tuple[asyncpg.Record, float | None]:
    """Poll until every order's row is SYNCED or FAILED; the last figures and when the first order was SYNCED."""
    began = time.perf_counter()
    first: float | None = None
    while True:
        progress = await conn.fetchrow(_PROGRESS)
        if first is None and progress["synced"]:
            first = time.perf_counter() - began
        if progress["synced"] + progress["failed"] >= orders:
            return progress, first
        for worker in workers:
            if worker.process.poll() is not None:
                raise RuntimeError(f"a worker exited with {worker.process.returncode}:\n{worker.output()[-3000:]}")
        if time.perf_counter() - began > timeout_s:
            raise RuntimeError(f"not done after {timeout_s:.0f} s: {dict(progress)}\n{workers[0].output()[-3000:]}")
        await asyncio.sleep(0.05)


async def tryton_sales(tryton: LocalTryton, seeded: Seeded) -> str:
    """Check that Tryton holds exactly one confirmed sale of 3 lines per order; a summary."""
    connector = TrytonConnector(tryton.url, tryton.database, tryton.user, tryton.password, timeout_s=60)
    try:
        sales = await connector.execute("sale.sale", "search_read", [], 0, None, None, ["reference", "state"])
        lines = await connector.execute("sale.line", "search_count", [])
    finally:
        await connector.aclose()
    references = sorted(sale["reference"] for sale in sales)
    expected = sorted(order.number for order in seeded.orders)
    assert references == expected, f"Tryton has {len(references)} sales, {len(set(references))} references"
    states = {sale["state"] for sale in sales}
    assert states <= set(CONFIRMED), states
    assert lines == LINES * len(expected), lines
    return f"{len(sales)} sales ({'/'.join(sorted(states))}), {lines} lines"


async def writeback_run(admin: asyncpg.Connection, server_url: str, redis_url: str, template: Path,
                        seeded: Seeded, workers: int, timeout_s: float) -> Result:
    name = f"erpgraph_bench_writeback_w{workers}"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{SEED_DATABASE}"')
    url = with_database(server_url, name)
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        with tempfile.TemporaryDirectory(prefix="erpgraph-bench-tryton-") as tmp, \
                LocalTryton(template, Path(tmp)) as tryton:
            env = os.environ | tryton.environment | {
                "DATABASE_URL": url, "REDIS_URL": redis_url, "ERPGRAPH_ENV": "production",
                "ERPGRAPH_QUEUE_NAME": f"arq:queue:bench-writeback-{uuid.uuid4().hex[:8]}",
            }
            with contextlib.ExitStack() as stack:
                began = time.perf_counter()
                spawned = [stack.enter_context(erpgraph_process(["worker"], env)) for _ in range(workers)]
                progress, first = await wait_for_writeback(conn, len(seeded.orders), spawned, timeout_s)
                seconds = time.perf_counter() - began
            in_tryton = await tryton_sales(tryton, seeded)
        assert progress["failed_any"] == 0, f"{progress['failed_any']} FAILED rows: {dict(progress)}"
        note = (f"{progress['synced']} orders SYNCED, {progress['failed']} FAILED ({progress['rows']} rows in all, "
                f"{progress['retried']} retried); first order SYNCED after {first:.1f} s; Tryton: {in_tryton}")
        return Result("erpgraph worker", workers, seconds, len(seeded.orders) / seconds, note)
    finally:
        await conn.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------- the connector alone


async def connector_run(template: Path, seeded: Seeded) -> Result:
    """The Tryton calls our writeback makes, one record after the other, without erpgraph around them."""
    with tempfile.TemporaryDirectory(prefix="erpgraph-bench-tryton-") as tmp, \
            LocalTryton(template, Path(tmp)) as tryton:
        connector = TrytonConnector(tryton.url, tryton.database, tryton.user, tryton.password, timeout_s=60)
        try:
            began = time.perf_counter()
            parties = {
                customer["code"]: await connector.upsert_party(
                    PartyData(code=customer["code"], name=customer["name"], email=customer["email"]))
                for customer in seeded.customers
            }
            products = {
                item["sku"]: await connector.upsert_product(
                    ProductData(code=item["sku"], name=item["name"], uom=item["uom"], list_price=item["list_price"]))
                for item in seeded.items
            }
            for order in seeded.orders:
                await connector.ensure_sale(SaleData(
                    reference=order.number, party_id=parties[order.customer], currency="EUR",
                    sale_date=order.sale_date, lines=tuple(
                        SaleLineData(product_id=products[line.sku], product_code=line.sku, description=line.name,
                                     quantity=line.quantity, unit="pcs", unit_price=line.unit_price)
                        for line in order.lines
                    ),
                ))
            seconds = time.perf_counter() - began
        finally:
            await connector.aclose()
        in_tryton = await tryton_sales(tryton, seeded)
    return Result("connector alone", None, seconds, len(seeded.orders) / seconds, f"Tryton: {in_tryton}")


# ----------------------------------------------------------------------------- proteus


def proteus_run(template: Path, seeded: Seeded) -> Result:
    """The same parties, products and sales made with proteus, one after the other."""
    from proteus import Model
    from proteus import config as proteus_config

    with tempfile.TemporaryDirectory(prefix="erpgraph-bench-tryton-") as tmp, \
            LocalTryton(template, Path(tmp)) as tryton:
        began = time.perf_counter()
        with proteus_config.set_xmlrpc_session(f"{tryton.url}/{tryton.database}/rpc/", tryton.user, tryton.password):
            Party = Model.get("party.party")
            Template = Model.get("product.template")
            Uom = Model.get("product.uom")
            Sale = Model.get("sale.sale")
            parties = {}
            for customer in seeded.customers:
                party = Party(code=customer["code"], name=customer["name"])
                party.addresses.new()
                party.contact_mechanisms.new(type="email", value=customer["email"])
                party.save()
                parties[customer["code"]] = party
            (unit,) = Uom.find([("symbol", "=", TRYTON_UNIT)])
            products = {}
            for item in seeded.items:
                product_template = Template(
                    name=item["name"], code=item["sku"], type="goods", salable=True,
                    list_price=item["list_price"], default_uom=unit, sale_uom=unit,
                )
                product_template.save()
                products[item["sku"]] = product_template.products[0]
            for order in seeded.orders:
                sale = Sale(party=parties[order.customer], reference=order.number, sale_date=order.sale_date,
                            invoice_method="manual", shipment_method="manual")
                for line in order.lines:
                    sale_line = sale.lines.new()
                    sale_line.product = products[line.sku]
                    sale_line.description = line.name
                    sale_line.quantity = float(line.quantity)  # a Float field in Tryton
                    sale_line.unit_price = line.unit_price
                sale.click("quote")
                sale.click("confirm")
            seconds = time.perf_counter() - began
        in_tryton = asyncio.run(tryton_sales(tryton, seeded))
    return Result("proteus (XML-RPC)", None, seconds, len(seeded.orders) / seconds, f"Tryton: {in_tryton}")


# ------------------------------------------------------------------------------ report


def report(results: list[Result], reference: Result, floor: Result) -> None:
    print(f"\n{'path':20} {'workers':>7} {'seconds':>9} {'orders/s':>9} {'ratio':>7} {'/ alone':>8}")
    for result in results:
        workers = "-" if result.workers is None else str(result.workers)
        print(f"{result.path:20} {workers:>7} {result.seconds:9.1f} {result.rate:9.2f} "
              f"{result.rate / reference.rate:7.2f} {result.rate / floor.rate:8.2f}")
    print("(ratio: orders/s over proteus's, the figure; / alone: over the connector's calls made one at a time)")
    for result in results:
        print(f"  {result.path}{'' if result.workers is None else f' x{result.workers}'}: {result.note}")
    ours = [r.rate / reference.rate for r in results if r.workers is not None]
    print(f"target ours / proteus >= {TARGET}: {'met' if min(ours) >= TARGET else 'NOT met'} "
          f"({', '.join(f'{r:.2f}' for r in ours)})")


async def bench(server_url: str, redis_url: str, args: argparse.Namespace) -> None:
    began = time.perf_counter()
    template = await asyncio.to_thread(build_template, TRYTON_DIR)
    print(f"Tryton template in {TRYTON_DIR.relative_to(ROOT)} ({time.perf_counter() - began:.1f} s)")
    admin = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        seeded = await make_seed(admin, server_url, args.orders)
        print(f"seeded {len(seeded.customers)} customers, {len(seeded.items)} items, {len(seeded.orders)} "
              f"confirmed orders of {LINES} lines in {seeded.seconds:.1f} s (not timed)")
        results = []
        for index, workers in enumerate(args.workers):
            redis = redis_database(redis_url, args.redis_db + index)
            result = await writeback_run(admin, server_url, redis, template, seeded, workers, args.timeout)
            print(f"{workers} worker(s): {result.seconds:.1f} s, {result.rate:.2f} orders/s")
            results.append(result)
        floor = await connector_run(template, seeded)
        print(f"connector alone: {floor.seconds:.1f} s, {floor.rate:.2f} orders/s")
        reference = await asyncio.to_thread(proteus_run, template, seeded)
        print(f"proteus: {reference.seconds:.1f} s, {reference.rate:.2f} orders/s")
        report([*results, floor, reference], reference, floor)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{SEED_DATABASE}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes per run")
    parser.add_argument("--redis-db", type=int, default=10,
                        help="the first run's Redis database (flushed); the next runs take the next ones")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a run may take")
    args = parser.parse_args()
    with servers() as (server_url, redis_url):
        asyncio.run(bench(server_url, redis_url, args))


if __name__ == "__main__":
    main()
