"""Limits on every resource: document lines, list costs, argument sizes, tokens,
statement timeouts and request bodies (issue 11, "Limits on every resource")."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import parse

from api.schema import schema
from domain.shared.db import asyncpg_dsn
from erpgraph.settings import Settings
from tests.integration.helpers import create_item, create_supplier, set_bom, snapshot_table
from tests.integration.sales_helpers import create_customer, create_order, draft
from tests.unit.test_limits import token_count

MAX_LINES = 3
TIMEOUT_MS = 300
MAX_BODY = 3 * 1024 * 1024
MAX_COST = 500
UPDATE_ORDER = (
    "mutation($id: ID!, $input: SalesOrderUpdateInput!) { updateSalesOrder(id: $id, input: $input) {"
    " errors { code field message } } }"
)


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    # Small bounds keep the oversized inputs small; the defaults are checked separately.
    marker = request.node.get_closest_marker("limits")
    return settings.model_copy(update={
        "max_lines": MAX_LINES, "statement_timeout_ms": TIMEOUT_MS, "max_body_bytes": MAX_BODY,
    } | (marker.kwargs if marker else {}))


def test_defaults_are_the_documented_ones() -> None:
    defaults = Settings(ERPGRAPH_ENV="test")
    assert (defaults.max_lines, defaults.max_search_length, defaults.max_list_entries) == (500, 200, 100)
    assert (defaults.statement_timeout_ms, defaults.worker_statement_timeout_ms) == (5000, 3_600_000)
    assert defaults.max_body_bytes == 1024 * 1024
    assert (defaults.ws_init_timeout_s, defaults.ws_max_pending_inits) == (10.0, 100)


# --- document lines -----------------------------------------------------------------


async def _items(gql: Any, n: int) -> list[str]:
    return [await create_item(gql, f"LIM-{i}", listPrice="1.00") for i in range(n)]


def _too_many(payload: dict[str, Any], field: list[str] | None = None) -> None:
    assert payload["errors"] == [{
        "code": "INVALID", "field": field or ["lines"],
        "message": f"at most {MAX_LINES} lines are allowed (ERPGRAPH_MAX_LINES), got {MAX_LINES + 1}",
    }], payload


async def test_sales_orders_and_quotes_hold_at_most_max_lines(gql: Any, sessionmaker: Any) -> None:
    customer = await create_customer(gql, "LIM-C")
    items = await _items(gql, MAX_LINES + 1)
    lines = [{"itemId": item, "quantity": "1"} for item in items]
    at_limit = await create_order(gql, customer, lines[:MAX_LINES])
    assert at_limit["errors"] == [] and len(at_limit["order"]["lines"]) == MAX_LINES
    before = await snapshot_table(sessionmaker, "sales_orders", "sales_order_lines", "quotes", "quote_lines")

    _too_many(await create_order(gql, customer, lines))
    updated = await gql(
        "mutation($id: ID!, $input: SalesOrderUpdateInput!) { updateSalesOrder(id: $id, input: $input) {"
        " errors { code field message } } }",
        {"id": at_limit["order"]["id"], "input": {"lines": lines}},
    )
    _too_many(updated["data"]["updateSalesOrder"])
    quote = await gql(
        "mutation($input: QuoteInput!) { createQuote(input: $input) { errors { code field message } } }",
        {"input": {"customerId": customer, "lines": lines}},
    )
    _too_many(quote["data"]["createQuote"])
    assert await snapshot_table(sessionmaker, "sales_orders", "sales_order_lines", "quotes", "quote_lines") == before


async def test_purchase_orders_boms_and_contacts_hold_at_most_max_lines(gql: Any, sessionmaker: Any) -> None:
    supplier = await create_supplier(gql)
    items = await _items(gql, MAX_LINES + 1)
    product = await create_item(gql, "LIM-P", kind="FINISHED", procurement="MAKE")
    before = await snapshot_table(sessionmaker, "purchase_orders", "purchase_order_lines", "bom_lines",
                                  "customers", "contacts")
    created = await gql(
        "mutation($input: PurchaseOrderInput!) { createPurchaseOrder(input: $input) {"
        " errors { code field message } } }",
        {"input": {"supplierId": supplier, "lines": [
            {"itemId": item, "quantity": "1", "dueDate": "2030-01-01"} for item in items
        ]}},
    )
    _too_many(created["data"]["createPurchaseOrder"])
    _too_many(await set_bom(gql, product, [(item, "1") for item in items]))
    customer = await gql(
        "mutation($input: CustomerInput!) { createCustomer(input: $input) { errors { code field message } } }",
        {"input": {"code": "LIM-C", "name": "Many contacts",
                   "contacts": [{"name": f"Contact {i}"} for i in range(MAX_LINES + 1)]}},
    )
    _too_many(customer["data"]["createCustomer"], ["contacts"])
    assert await snapshot_table(sessionmaker, "purchase_orders", "purchase_order_lines", "bom_lines",
                                "customers", "contacts") == before


# --- plain lists in the query cost ---------------------------------------------------


@pytest.mark.limits(max_cost=MAX_COST)
async def test_nested_plain_lists_cost_what_the_data_holds(gql: Any, app: Any) -> None:
    """A plain list costs its real maximum in the data (api.list_maxima), never more than
    ERPGRAPH_MAX_LINES: the same request is cheap on small documents and refused once the
    data holds documents as long as the bound allows."""
    customer = await create_customer(gql, "LIM-C")
    parts = await _items(gql, MAX_LINES)
    order = await draft(gql, customer, parts[0])
    nested = "lines { item { bom { lines { component { sku whereUsed { sku } } } } } }"
    query = "query($id: ID!) { " + " ".join(
        f"o{i}: salesOrder(id: $id) {{ {nested} }}" for i in range(10)
    ) + " }"
    maxima = app.state.list_maxima
    await maxima.refresh(app.state.resources.sessionmaker)
    small = await gql(query, {"id": order})  # one line, no BOMs: every list counts 1 at most
    assert small["data"]["o0"]["lines"][0]["item"]["bom"] is None

    # the longest documents the bound allows: MAX_LINES lines, BOMs of MAX_LINES lines, each
    # part used in MAX_LINES BOMs
    kits = [await create_item(gql, f"KIT-{i}", kind="FINISHED", procurement="MAKE") for i in range(MAX_LINES)]
    for kit in kits:
        assert (await set_bom(gql, kit, [(part, "1") for part in parts]))["errors"] == []
    long_order = await draft(gql, customer, kits[0])
    assert (await gql(UPDATE_ORDER, {"id": long_order, "input": {"lines": [
        {"itemId": kit, "quantity": "1"} for kit in kits]}}))["data"]["updateSalesOrder"]["errors"] == []
    await maxima.refresh(app.state.resources.sessionmaker)

    started = time.perf_counter()
    body = await gql(query, {"id": long_order}, expect_errors=True)
    assert time.perf_counter() - started < 1
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    # lines (3) x bom lines (3) x whereUsed (3) items; component: itself, sku and whereUsed 1 + 3
    bom = 1 + (1 + MAX_LINES * (1 + 1 + (1 + MAX_LINES * 1)))
    assert error["extensions"]["cost"] == 10 * (1 + (1 + MAX_LINES * (1 + bom)))
    # one alias is within the cost
    single = await gql("query($id: ID!) { salesOrder(id: $id) { %s } }" % nested, {"id": long_order})
    assert len(single["data"]["salesOrder"]["lines"]) == MAX_LINES


def test_the_default_line_bound_makes_nested_lists_costly() -> None:
    from api.limits import InputBounds, query_cost

    # The issue's request: 20,000 lines, their items' BOM lines, aliased ten times, took 24 s.
    query = "{ " + " ".join(
        f'o{i}: salesOrder(number: "SO-1") {{ lines {{ item {{ bom {{ lines {{ component {{ sku }} }} }} }} }} }}'
        for i in range(10)
    ) + " }"
    cost = query_cost(schema._schema, parse(query), bounds=InputBounds())
    assert cost == 10 * (1 + (1 + 500 * (1 + 1 + (1 + 500 * 2))))
    assert cost > Settings(ERPGRAPH_ENV="test").max_cost
    # A page of orders with their lines is within the default cost.
    page = "{ salesOrders(first: 20) { edges { node { number lines { quantity item { sku } } } } } }"
    assert query_cost(schema._schema, parse(page)) < Settings(ERPGRAPH_ENV="test").max_cost
    # Lists with a smaller real maximum count that: the pipeline one entry per stage, nodes its ids.
    assert query_cost(schema._schema, parse("{ pipeline { stage count } }")) == 1 + 6 * 2
    nodes = query_cost(schema._schema, parse("query($i: [ID!]!) { nodes(ids: $i) { id } }"), {"i": _ids(7)})
    assert nodes == 1 + 7 * 1


# --- search and filter arguments ------------------------------------------------------


async def test_search_text_is_bounded(gql: Any) -> None:
    ok = await gql("query($s: String) { customers(search: $s) { totalCount } }", {"s": "x" * 200})
    assert ok["data"]["customers"]["totalCount"] == 0
    for query, variables in [
        ("query($s: String) { customers(search: $s) { totalCount } }", {"s": "x" * 201}),
        ('{ items(search: "%s") { totalCount } }' % ("x" * 201), None),
        ("query($s: String) { suppliers(search: $s) { totalCount } }", {"s": "x" * 1_000_000}),
    ]:
        body = await gql(query, variables, expect_errors=True)
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "INVALID"
        assert error["extensions"]["field"] == ["search"]
        assert "at most 200 characters" in error["message"]


def _ids(n: int) -> list[str]:
    return [base64.b64encode(f"Customer:{i}".encode()).decode() for i in range(1, n + 1)]


async def test_id_and_status_lists_are_bounded(gql: Any) -> None:
    ok = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": _ids(100)})
    assert ok["data"]["nodes"] == [None] * 100
    statuses = ["DRAFT"] * 101
    for query, variables, argument in [
        ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": _ids(101)}, "ids"),
        ("query($s: [OrderStatus!]) { salesOrders(status: $s) { totalCount } }", {"s": statuses}, "status"),
        ("{ salesOrders(status: [%s]) { totalCount } }" % ", ".join(statuses), None, "status"),
    ]:
        started = time.perf_counter()
        body = await gql(query, variables, expect_errors=True)
        assert time.perf_counter() - started < 2
        assert body["data"] is None, body
        [error] = body["errors"]
        assert error["extensions"]["code"] == "INVALID"
        assert error["extensions"]["field"] == [argument]
        assert "at most 100 entries" in error["message"]
    # 100,000 ids (accepted before): their tokens are already over the limit
    body = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": _ids(100_000)},
                     expect_errors=True)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "TOO_MANY_TOKENS"


async def test_variables_count_toward_the_token_limit(gql: Any, sessionmaker: Any) -> None:
    before = await snapshot_table(sessionmaker, "customers", "contacts")
    mutation = "mutation($input: CustomerInput!) { createCustomer(input: $input) { errors { code } } }"
    # 2 tokens of braces + 2 per key/value pair: 2,000 contacts hold 10,000 tokens, 5,000 allowed.
    contacts = [{"name": "c", "email": "c@example.com"}] * 2000
    body = await gql(mutation, {"input": {"code": "TOK", "name": "Tokens", "contacts": contacts}},
                     expect_errors=True)
    assert body["data"] is None
    assert "more than 5000 tokens" in body["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, "customers", "contacts") == before
    # What the variables leave of the limit is the document's: a document just under the
    # limit alone passes, with a few ids in its variables it is over.
    # (the padding is the variable's default, never used: ids are always given)
    query = 'query($ids: [ID!]! = [%s]) { nodes(ids: $ids) { id } customers { totalCount } }'
    padding = 1
    while token_count(query % " ".join(['"x"'] * (padding + 1))) <= 4950:
        padding += 1
    query %= " ".join(['"x"'] * padding)
    assert (await gql(query, {"ids": []}))["data"]["customers"]["totalCount"] == 0
    body = await gql(query, {"ids": _ids(99)}, expect_errors=True)
    assert body["data"] is None
    assert "more than" in body["errors"][0]["message"] and "tokens" in body["errors"][0]["message"]


# --- statement timeout ----------------------------------------------------------------


@pytest.fixture
async def blocker(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        yield conn
    finally:
        await conn.close()


async def test_a_query_past_the_statement_timeout_gets_a_timeout_error(gql: Any, blocker: Any) -> None:
    await _query_times_out(gql, blocker)


@pytest.mark.limits(env="production")
async def test_a_timeout_is_not_masked_in_production(gql: Any, blocker: Any) -> None:
    await _query_times_out(gql, blocker)


async def _query_times_out(gql: Any, blocker: Any) -> None:
    await create_customer(gql, "LIM-C")
    tx = blocker.transaction()
    await tx.start()
    await blocker.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")
    try:
        started = time.perf_counter()
        body = await asyncio.wait_for(
            gql("{ customers { totalCount edges { node { code } } } }", expect_errors=True), 10
        )
        assert time.perf_counter() - started < 3
    finally:
        await tx.rollback()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert "statement timeout" in error["message"]
    assert "SELECT" not in error["message"] and "customers" not in error["message"]
    # the pool is not left with a broken connection: the next request works
    after = await gql("{ customers { totalCount } }")
    assert after["data"]["customers"]["totalCount"] == 1


async def test_a_mutation_past_the_statement_timeout_gets_a_timeout_user_error(
    gql: Any, blocker: Any, sessionmaker: Any
) -> None:
    customer = await create_customer(gql, "LIM-C")
    before = await snapshot_table(sessionmaker, "customers")
    tx = blocker.transaction()
    await tx.start()
    await blocker.execute("SELECT 1 FROM customers FOR UPDATE")
    try:
        body = await asyncio.wait_for(gql(
            "mutation($id: ID!) { updateCustomer(id: $id, input: {name: \"Renamed\"}) {"
            " errors { code field message } } }", {"id": customer},
        ), 10)
    finally:
        await tx.rollback()
    [error] = body["data"]["updateCustomer"]["errors"]
    assert error["code"] == "TIMEOUT" and "statement timeout" in error["message"]
    assert await snapshot_table(sessionmaker, "customers") == before


@pytest.mark.limits(db_pool_size=1, max_concurrent_searches=1, statement_timeout_ms=3000)
async def test_searches_do_not_starve_the_pool(gql: Any, blocker: Any) -> None:
    # One pooled connection and one overflow: three searches stuck on a lock would hold
    # both; with one search slot they hold one, and a small query gets the other at once.
    await create_customer(gql, "LIM-C")
    await gql("{ viewer { name } }")  # the token is cached: requests need no connection for it
    tx = blocker.transaction()
    await tx.start()
    await blocker.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")
    search = "query($s: String) { customers(search: $s) { totalCount } }"
    searches = [asyncio.create_task(gql(search, {"s": f"x{i}"}, expect_errors=True)) for i in range(3)]
    try:
        await asyncio.sleep(0.3)  # the searches are waiting (on the lock, or for a slot)
        started = time.perf_counter()
        small = await asyncio.wait_for(gql("{ items { totalCount } }"), 10)
        assert time.perf_counter() - started < 1
        assert small["data"]["items"]["totalCount"] == 0
    finally:
        await tx.rollback()
    for body in await asyncio.gather(*searches):
        assert body["data"]["customers"]["totalCount"] == 0


async def test_api_connections_carry_the_statement_timeout(app: Any) -> None:
    async with app.state.resources.engine.connect() as conn:
        value = (await conn.exec_driver_sql("SHOW statement_timeout")).scalar()
    assert value == f"{TIMEOUT_MS}ms"


async def test_worker_connections_carry_their_own_statement_timeout(settings: Settings) -> None:
    import redis.asyncio as aioredis

    from workers.settings import shutdown, startup, worker_settings

    ctx = worker_settings(settings.model_copy(update={"worker_statement_timeout_ms": 120_000}))["ctx"]
    ctx["redis"] = aioredis.Redis.from_url(settings.redis_url)
    await startup(ctx)
    try:
        async with ctx["engine"].connect() as conn:
            value = (await conn.exec_driver_sql("SHOW statement_timeout")).scalar()
    finally:
        await shutdown(ctx)
        await ctx["redis"].aclose()
    assert value == "2min"


# --- request body size ----------------------------------------------------------------


async def test_a_declared_oversized_body_gets_413_before_it_is_read(http: httpx.AsyncClient,
                                                                     admin_token: str) -> None:
    query = "{ customers { totalCount } }"
    body = b'{"query": "' + query.encode() + b'", "variables": {"pad": "' + b"x" * MAX_BODY + b'"}}'
    response = await http.post("/graphql", content=body, headers={
        "Authorization": f"Bearer {admin_token}", "Content-Type": "application/json",
    })
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"
    # without a token too: the size is checked first
    response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413


async def test_a_streamed_oversized_body_is_cut_off_at_the_limit(http: httpx.AsyncClient,
                                                                  admin_token: str) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "{ customers { totalCount } }", "variables": {"pad": "'
        for _ in range(256):  # 256 x 32 KiB = 8 MiB, past the limit
            sent += 32 * 1024
            yield b"x" * 32 * 1024
        yield b'"}}'

    response = await http.post("/graphql", content=chunks(), headers={
        "Authorization": f"Bearer {admin_token}", "Content-Type": "application/json",
    })
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"
    assert sent > MAX_BODY
    # a body under the limit still goes through
    ok = await http.post("/graphql", json={"query": "{ customers { totalCount } }"},
                         headers={"Authorization": f"Bearer {admin_token}"})
    assert ok.status_code == 200 and ok.json()["data"]["customers"]["totalCount"] == 0


async def test_the_app_never_holds_more_of_a_body_than_the_limit() -> None:
    from api.body_limit import BodySizeLimit

    seen: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            seen.append(len(body))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    chunks = [{"type": "http.request", "body": b"x" * 50, "more_body": i < 29} for i in range(30)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": []}
    await BodySizeLimit(app, max_bytes=120)(scope, receive, send)
    assert max(seen) <= 120  # the app got 100 bytes, then the chunk that passed the limit was refused
    assert sent[0]["status"] == 413
    assert chunks == []  # the rest (under DRAIN_FACTOR x the limit) was read and dropped before the answer
    # a declared length over the limit never reaches the app
    seen.clear()
    chunks[:] = [{"type": "http.request", "body": b"x" * 500, "more_body": False}]
    sent.clear()
    await BodySizeLimit(app, max_bytes=120)(
        scope | {"headers": [(b"content-length", b"500")]}, receive, send
    )
    assert seen == [] and sent[0]["status"] == 413
