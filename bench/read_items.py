"""Read benchmark: items with BOMs and stock over GraphQL vs one raw asyncpg query.

    .venv/bin/python bench/read_items.py [--items 1000] [--clients 16] [--seconds 15]

Uses DATABASE_URL / REDIS_URL when set, embedded servers otherwise; seeds a scratch
database, starts `erpgraph serve` (production mode) in its own process, and prints
requests/s, p50 and p95 for both paths and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import api_process, asyncpg_dsn, load, scratch_database, servers

QUERY = """
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

RAW = """
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


async def seed(url: str, n_items: int) -> str:
    """n_items items: a quarter FINISHED with 4-line BOMs, stock in two warehouses."""
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
        return await create_admin_token(url)
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


async def main(n_items: int, clients: int, seconds: float) -> None:
    with servers() as (server_url, redis_url):
        async with scratch_database(server_url) as url:
            token = await seed(url, n_items)
            async with api_process(url, redis_url) as base:
                limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
                async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60,
                                             headers={"Authorization": f"Bearer {token}"}) as http:
                    cursors: list[str | None] = [None]
                    while True:  # collect page cursors once; checks the data is all there
                        body = (await http.post("/graphql", json={"query": QUERY,
                                                "variables": {"after": cursors[-1]}})).json()
                        page = body["data"]["items"]
                        if not page["pageInfo"]["hasNextPage"]:
                            break
                        cursors.append(page["pageInfo"]["endCursor"])
                    assert len(cursors) == -(-n_items // 100), len(cursors)

                    async def graphql(client: int, n: int) -> None:
                        after = cursors[(client + n) % len(cursors)]
                        response = await http.post("/graphql", json={"query": QUERY, "variables": {"after": after}})
                        assert response.status_code == 200 and "errors" not in response.json()

                    gql = await load(clients, seconds, graphql)

            pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=clients, max_size=clients)
            try:
                after_ids = [0] + [r["id"] for r in await pool.fetch(
                    "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) n FROM items) t "
                    "WHERE n % 100 = 0 ORDER BY id")][: len(cursors) - 1]

                async def raw(client: int, n: int) -> None:
                    rows = await pool.fetchval(RAW, after_ids[(client + n) % len(after_ids)])
                    assert len(json.loads(rows)) == 100

                raw_figures = await load(clients, seconds, raw)
            finally:
                await pool.close()

    print(f"read_items: {n_items} items ({n_items // 4} with 4-line BOMs), stock in 2 warehouses, "
          f"pages of 100, {clients} concurrent clients, {seconds:.0f} s per path")
    print(gql.line("GraphQL over HTTP"))
    print(raw_figures.line("raw asyncpg (one query per page)"))
    print(f"ratio GraphQL/raw throughput: {gql.rate / raw_figures.rate:.3f}  "
          f"(raw is {raw_figures.rate / gql.rate:.1f}x faster)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    asyncio.run(main(args.items, args.clients, args.seconds))
