"""Fixtures of the end-to-end tests: an empty database and a Redis db of their own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from sqlalchemy.engine import make_url

CLI_REDIS_DB = 11  # apart from the db the API tests flush


@pytest.fixture
async def empty_database(services: tuple[str, str]) -> AsyncIterator[str]:
    """A database with no tables at all (``postgresql://`` URL)."""
    server = make_url(services[0])
    name = f"erpgraph_cli_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
def cli_redis_url(services: tuple[str, str]) -> str:
    base = urlsplit(services[1])
    if base.scheme == "unix":
        return urlunsplit(base._replace(query=f"db={CLI_REDIS_DB}"))
    return urlunsplit(base._replace(path=f"/{CLI_REDIS_DB}"))
