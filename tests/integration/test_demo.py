"""What `erpgraph dev` seeds: the demo company (once) and the kept admin token."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from domain.identity.services import authenticate
from domain.shared.db import make_engine, make_sessionmaker
from erpgraph.demo import load_demo
from erpgraph.dev import ensure_dev_token

COUNTS = """
SELECT
  (SELECT count(*) FROM customers)                                     AS customers,
  (SELECT count(*) FROM contacts)                                      AS contacts,
  (SELECT count(*) FROM items)                                         AS items,
  (SELECT count(*) FROM items WHERE kind = 'FINISHED')                 AS finished,
  (SELECT count(*) FROM items WHERE kind = 'SEMI_FINISHED')            AS semi,
  (SELECT count(*) FROM items WHERE kind = 'RAW_MATERIAL')             AS raw,
  (SELECT count(*) FROM boms)                                          AS boms,
  (SELECT count(*) FROM bom_lines)                                     AS bom_lines,
  (SELECT count(*) FROM warehouses)                                    AS warehouses,
  (SELECT count(DISTINCT warehouse_id) FROM stock_balances)            AS stocked_warehouses,
  (SELECT count(*) FROM stock_moves)                                   AS moves,
  (SELECT coalesce(max(id), 0) FROM domain_events)                     AS last_event
"""

BOM_LEVELS = """
WITH RECURSIVE tree(item_id, level) AS (
    SELECT id, 1 FROM items WHERE kind = 'FINISHED'
    UNION ALL
    SELECT bl.component_id, t.level + 1 FROM tree t JOIN bom_lines bl ON bl.bom_item_id = t.item_id
)
SELECT max(level) FROM tree
"""


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[Any]:
    engine = make_engine(database_url, pool_size=2)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _one(sessionmaker: Any, sql: str) -> Any:
    async with sessionmaker() as session:
        return (await session.execute(text(sql))).one()


async def test_demo_company_loads_once(sessionmaker: Any) -> None:
    assert await load_demo(sessionmaker) is True

    counts = await _one(sessionmaker, COUNTS)
    assert counts.customers == 20
    assert 20 <= counts.contacts <= 60
    assert (counts.items, counts.finished, counts.semi, counts.raw) == (50, 8, 12, 30)
    assert counts.boms == 20  # every finished and semi-finished item
    assert counts.warehouses == 2 and counts.stocked_warehouses == 2
    assert counts.moves > 0

    assert (await _one(sessionmaker, BOM_LEVELS))[0] == 3

    assert await load_demo(sessionmaker) is False
    assert await _one(sessionmaker, COUNTS) == counts


async def test_demo_data_is_varied_and_consistent(sessionmaker: Any) -> None:
    await load_demo(sessionmaker)
    facts = await _one(
        sessionmaker,
        """
        SELECT
          (SELECT count(*) FROM customers WHERE credit_limit = 0)  AS unlimited,
          (SELECT count(*) FROM customers WHERE credit_limit > 0)  AS limited,
          (SELECT count(DISTINCT segment) FROM customers)          AS segments,
          (SELECT count(DISTINCT payment_terms_days) FROM customers) AS terms,
          (SELECT count(*) FROM customers WHERE cardinality(tags) > 0) AS tagged,
          (SELECT count(DISTINCT uom) FROM items)                  AS uoms,
          (SELECT count(*) FROM items WHERE lot_sizing = 'FIXED_ORDER_QUANTITY'
                                        AND fixed_lot_size > 0)    AS fixed_lots,
          (SELECT count(*) FROM items WHERE lot_sizing = 'MIN_MULTIPLE'
                      AND min_order_quantity > 0 AND lot_multiple > 0) AS min_multiple,
          (SELECT count(*) FROM items WHERE procurement = 'SUBCONTRACT') AS subcontracted,
          (SELECT count(*) FROM items WHERE standard_cost IS NULL)  AS without_cost,
          (SELECT count(*) FROM items
             WHERE kind = 'FINISHED' AND list_price <= standard_cost) AS unprofitable,
          (SELECT count(*) FROM (SELECT component_id FROM bom_lines
             GROUP BY component_id HAVING count(*) > 1) shared)    AS shared_components,
          (SELECT count(*) FROM stock_moves
             WHERE reason <> 'opening balance' OR unit_cost IS NULL) AS odd_moves,
          (SELECT code FROM warehouses WHERE is_default)           AS default_warehouse
        """,
    )
    assert facts.unlimited > 0 and facts.limited > 0
    assert facts.segments >= 3 and facts.terms >= 3 and facts.tagged > 0
    assert facts.uoms == 3  # pcs, kg, m
    assert facts.fixed_lots > 0 and facts.min_multiple > 0 and facts.subcontracted > 0
    assert facts.without_cost == 0 and facts.unprofitable == 0
    assert facts.shared_components > 0
    assert facts.odd_moves == 0
    assert facts.default_warehouse == "MAIN"


async def test_dev_token_is_kept_in_a_private_file(sessionmaker: Any, tmp_path: Path) -> None:
    path = tmp_path / "dev-admin-token"
    token = await ensure_dev_token(sessionmaker, path)

    assert path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await ensure_dev_token(sessionmaker, path) == token
    async with sessionmaker() as session:
        principal = await authenticate(session, token)
        assert principal is not None and principal.role == "admin"
        rows = (await session.execute(text("SELECT count(*) FROM api_tokens"))).scalar()
    assert rows == 1


async def test_kept_dev_token_is_registered_in_a_new_database(
    sessionmaker: Any, tmp_path: Path
) -> None:
    # The data dir outlived its database (e.g. DATABASE_URL now points elsewhere).
    path = tmp_path / "dev-admin-token"
    kept = "eg_" + "k" * 43
    path.write_text(kept + "\n")

    assert await ensure_dev_token(sessionmaker, path) == kept
    async with sessionmaker() as session:
        assert await authenticate(session, kept) is not None


async def test_revoked_dev_token_is_replaced(sessionmaker: Any, tmp_path: Path) -> None:
    path = tmp_path / "dev-admin-token"
    first = await ensure_dev_token(sessionmaker, path)
    async with sessionmaker.begin() as session:
        await session.execute(text("UPDATE api_tokens SET revoked_at = now()"))

    second = await ensure_dev_token(sessionmaker, path)
    assert second != first and path.read_text().strip() == second
    async with sessionmaker() as session:
        assert await authenticate(session, second) is not None
