"""Production mode: no introspection, no GraphiQL, no field suggestions, masked errors;
and the limits hold on the real app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from erpgraph.settings import Settings


@pytest.fixture
async def prod_http(database_url: str, redis_url: str, make_token) -> Any:
    from api.app import create_app

    app = create_app(Settings(DATABASE_URL=database_url, REDIS_URL=redis_url, ERPGRAPH_ENV="production"))
    async with app.router.lifespan_context(app):
        token = await make_token("admin", "ops")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://prod",
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            yield client


async def post(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_introspection_is_off(prod_http) -> None:
    body = await post(prod_http, "{ __schema { types { name } } }")
    assert body["data"] is None and "introspection" in body["errors"][0]["message"].lower()


async def test_graphiql_is_off(prod_http) -> None:
    page = await prod_http.get("/graphql", headers={"Accept": "text/html", "Authorization": ""})
    assert page.status_code in (401, 404)
    assert "graphiql" not in page.text.lower()
    assert (await prod_http.get("/graphiql/static/graphiql.min.js")).status_code == 404


async def test_no_field_suggestions(prod_http) -> None:
    body = await post(prod_http, "{ viewr { name } }")
    message = body["errors"][0]["message"]
    assert "viewr" in message and "Did you mean" not in message


async def test_unexpected_errors_are_masked_expected_ones_are_not(prod_http, monkeypatch, caplog) -> None:
    from api.inventory import queries

    async def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("password=hunter2 in a stack frame")

    monkeypatch.setattr(queries, "paginate", explode)
    # a filter: a query the resolvers answer (a compiled one never reaches paginate)
    body = await post(prod_http, '{ items(search: "bolt") { totalCount } }')
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "hunter2" not in str(body)
    assert any("hunter2" in r.getMessage() for r in caplog.records)  # logged for operators
    caplog.clear()
    expected = await post(prod_http, "{ items(first: 101) { totalCount } }")
    assert "first" in expected["errors"][0]["message"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # a client's fault


async def test_domain_errors_in_queries_are_not_masked(prod_http) -> None:
    body = await post(prod_http, '{ items(after: "garbage") { totalCount } }')
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        ("after: is not a valid cursor", {"code": "INVALID", "field": ["after"]})
    ]


async def test_limits_on_the_real_schema(gql) -> None:
    deep = "{ items { edges { node { bom { lines { component { bom { lines { component { bom { lines " \
           "{ component { bom { lines { component { sku } } } } } } } } } } } } } } } }"
    body = await gql(deep, expect_errors=True)
    assert body["data"] is None and "depth" in body["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(31)) + " }"
    body = await gql(aliases, expect_errors=True)
    assert body["data"] is None and "aliases" in body["errors"][0]["message"]
    scalars = ("sku name uom kind procurement leadTimeDays safetyStock scrapRate lotSizing "
               "fixedLotSize minOrderQuantity lotMultiple listPrice standardCost onHand reserved "
               "available incoming")
    node = (f"{scalars} stock {{ onHand reserved available warehouse {{ code name }} }} "
            f"bom {{ outputQuantity lines {{ quantity component {{ {scalars} }} }} }} "
            f"whereUsed {{ {scalars} }}")
    costly = "{ " + " ".join(f"p{i}: items(first: 100) {{ edges {{ node {{ {node} }} }} }}"
                             for i in range(10)) + " }"
    body = await gql(costly, expect_errors=True)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    # a BOM's lines count ERPGRAPH_MAX_LINES (500) each: a page of 20 items with them is within the cost
    ok = await gql("{ items(first: 20) { edges { node { sku bom { lines { component { sku } } } "
                   "stock { onHand } } } } }")
    assert ok["data"]["items"]["edges"] == []
