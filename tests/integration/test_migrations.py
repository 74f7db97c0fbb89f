"""The migrations produce exactly the tables the models describe, and re-running is a no-op."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from domain.shared.db import make_engine
from domain.shared.models import metadata
from erpgraph.migrate import head_revision, is_migrated, upgrade


async def test_models_and_migrations_agree(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url)  # idempotent on a migrated database
    engine = make_engine(database_url, pool_size=1)
    try:
        assert await is_migrated(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []
    assert head_revision() is not None


async def test_every_migration_goes_down_and_up_again(database_url: str) -> None:
    """Each downgrade undoes its upgrade exactly (constraint names included): base, then head."""
    from alembic import command

    from erpgraph.migrate import alembic_config

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "base")
    engine = make_engine(database_url, pool_size=1)
    try:
        assert not await is_migrated(engine)
        await asyncio.to_thread(upgrade, database_url)
        assert await is_migrated(engine)
    finally:
        await engine.dispose()


async def test_0015_values_the_existing_ledger_by_replaying_it(database_url: str) -> None:
    """A ledger written before valuation existed: 10 in at 5.00, 4 out, 6 in at 8.00, 2 in
    without a cost, 14 out. Replayed: 50.00; -20.00 at 5; 48.00 (c = 78 / 12 = 6.5); 13.00
    at the average (6.5); the last 14 take all 91.00. An item never costed comes in at its
    standard cost (3 in at 2.50 = 7.50)."""
    from decimal import Decimal as D

    from alembic import command
    from sqlalchemy import text

    from erpgraph.migrate import alembic_config

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0014")
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            warehouse = await conn.scalar(text("INSERT INTO warehouses (code, name, is_default) "
                                               "VALUES ('W', 'W', true) RETURNING id"))
            costed, standard = [
                await conn.scalar(text(
                    "INSERT INTO items (sku, name, kind, procurement, standard_cost) "
                    "VALUES (:sku, :sku, 'RAW_MATERIAL', 'BUY', :cost) RETURNING id"
                ), {"sku": sku, "cost": cost})
                for sku, cost in (("OLD-1", None), ("OLD-2", D("2.50")))
            ]
            moves = [(costed, 10, D("5.00")), (costed, -4, None), (costed, 6, D("8.00")), (costed, 2, None),
                     (standard, 3, None), (costed, -14, None)]
            for item, quantity, cost in moves:
                await conn.execute(text(
                    "INSERT INTO stock_moves (item_id, warehouse_id, kind, quantity_on_hand, unit_cost) "
                    "VALUES (:item, :wh, 'ADJUSTMENT', :q, :cost)"
                ), {"item": item, "wh": warehouse, "q": quantity, "cost": cost})
        await asyncio.to_thread(upgrade, database_url)
        async with engine.connect() as conn:
            values = (await conn.execute(text("SELECT item_id, value FROM stock_moves ORDER BY id"))).all()
            valuations = dict((await conn.execute(text(
                "SELECT item_id, (quantity, value, average_cost)::text FROM item_valuations"))).all())
    finally:
        await engine.dispose()
    assert [(item, value) for item, value in values] == [
        (costed, D(50)), (costed, D(-20)), (costed, D(48)), (costed, D(13)), (standard, D("7.5")),
        (costed, D(-91)),
    ]
    assert valuations == {costed: "(0.000000,0.0000000000,6.5000000000)",
                          standard: "(3.000000,7.5000000000,2.5000000000)"}
