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
