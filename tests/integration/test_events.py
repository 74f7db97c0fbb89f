"""Domain events: written in the caller's transaction, announced on commit only."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from domain.shared.events import DomainEvent, record_event


async def test_commit_notifies_rollback_does_not(database_url, sessionmaker) -> None:
    conn = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))
    heard: asyncio.Queue[str] = asyncio.Queue()
    await conn.add_listener("domain_events", lambda *args: heard.put_nowait(args[2]))
    try:
        async with sessionmaker() as session:
            async with session.begin():
                await record_event(session, "test.rolled_back", "Test", 1)
                await session.rollback()
        async with sessionmaker.begin() as session:
            await record_event(session, "test.one", "Test", 1)
            await record_event(session, "test.two", "Test", 2)
        assert await asyncio.wait_for(heard.get(), 5) == "domain_events"
        await asyncio.sleep(0.2)
        assert heard.empty()  # two events in one transaction: one notification
        async with sessionmaker() as session:
            types = (await session.execute(select(DomainEvent.type).order_by(DomainEvent.id))).scalars().all()
            assert types == ["test.one", "test.two"]
            assert await session.scalar(select(func.count()).select_from(DomainEvent)) == 2
    finally:
        await conn.close()
