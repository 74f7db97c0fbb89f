"""Shared fixtures: real PostgreSQL and Redis, one fresh database per test.

DATABASE_URL / REDIS_URL point at servers when set (CI sets them); otherwise an
embedded PostgreSQL and Redis are started once for the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from erpgraph.embedded import embedded_services
from erpgraph.migrate import upgrade
from erpgraph.settings import Settings
from tests.support import serving

# a real trytond for the ERP writeback tests (tryton, tryton_connector)
pytest_plugins = ["tests.tryton_fixtures"]

# another test run on the same Redis (a second checkout) can take its own database number
TEST_REDIS_DB = int(os.environ.get("ERPGRAPH_TEST_REDIS_DB", "9"))


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def services() -> Iterator[tuple[str, str]]:
    """(server URL of a PostgreSQL maintenance db, Redis base URL)."""
    db_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    with tempfile.TemporaryDirectory(prefix="erpgraph-test-") as tmp:
        with embedded_services(Path(tmp), db_url, redis_url) as svc:
            assert svc.database_url and svc.redis_url
            yield svc.database_url, svc.redis_url


@pytest.fixture(scope="session")
async def template_database(services: tuple[str, str]) -> AsyncIterator[str]:
    """A migrated database that each test's database is copied from."""
    server_url = services[0]
    name = f"erpgraph_tpl_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        await asyncio.to_thread(upgrade, _with_database(server_url, name))
        yield name
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
async def database_url(services: tuple[str, str], template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test (``postgresql://`` URL)."""
    server_url = services[0]
    name = f"erpgraph_t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield _with_database(server_url, name)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
async def redis_url(services: tuple[str, str]) -> AsyncIterator[str]:
    """A Redis database emptied for this test."""
    import redis.asyncio as aioredis

    base = urlsplit(services[1])
    if base.scheme == "unix":
        url = urlunsplit(base._replace(query=f"db={TEST_REDIS_DB}"))
    else:
        url = urlunsplit(base._replace(path=f"/{TEST_REDIS_DB}"))
    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    yield url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Any]:
    """A client of this test's Redis database (``redis.asyncio.Redis``)."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    # a queue of its own: a worker of another test run sharing this Redis never takes our jobs
    return Settings(DATABASE_URL=database_url, REDIS_URL=redis_url, ERPGRAPH_ENV="test",
                    ERPGRAPH_QUEUE_NAME=f"arq:queue:test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    from api.app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def sessionmaker(app: Any) -> Any:
    return app.state.resources.sessionmaker


@pytest.fixture
def make_token(sessionmaker: Any) -> Callable[..., Awaitable[str]]:
    from domain.identity.services import create_token

    async def make(role: str = "admin", name: str | None = None, partner: str | None = None) -> str:
        if role == "partner" and partner is None:
            partner = "test-partner"  # a partner token is bound to one integration
        async with sessionmaker.begin() as session:
            return await create_token(session, name or f"{role}-user", role, partner)

    return make


ADMIN_NAME = "test-admin"


@pytest.fixture
def admin_token_name() -> str:
    return ADMIN_NAME


@pytest.fixture
async def admin_token(make_token: Callable[..., Awaitable[str]]) -> str:
    return await make_token("admin", ADMIN_NAME)


class GraphQLClient:
    """Posts GraphQL over the real ASGI app; returns the decoded JSON body."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None,
        expect_errors: bool = False,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        if not expect_errors:
            assert "errors" not in body, body["errors"]
        return body


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient, admin_token: str) -> GraphQLClient:
    return GraphQLClient(http, admin_token)


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.count += 1
        self.statements.append(statement)

    @contextlib.contextmanager
    def measure(self) -> Iterator[StatementCounter]:
        self.count = 0
        self.statements = []
        yield self


@pytest.fixture
def sql_counter(app: Any) -> Iterator[StatementCounter]:
    """Counts SQL statements the app's engine sends while ``measure()`` is open."""
    counter = StatementCounter()
    engine = app.state.resources.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
async def live_server(app: Any) -> AsyncIterator[str]:
    """The app served by uvicorn on a loopback port, in this event loop."""
    async with serving(app) as url:
        yield url
