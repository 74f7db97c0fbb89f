"""Authentication on HTTP and websocket, scopes, and field-level cost visibility."""

from __future__ import annotations

import json

import pytest
import websockets

from tests.integration.helpers import CREATE_ITEM, create_item


async def test_missing_or_invalid_token_is_401_json(http) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer "}):
        response = await http.post("/graphql", json={"query": "{ viewer { name } }"}, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_viewer_shows_role_and_scopes(gql, make_token) -> None:
    token = await make_token("sales", "Sam Sales")
    body = await gql("{ viewer { name role scopes } }", token=token)
    viewer = body["data"]["viewer"]
    assert viewer["name"] == "Sam Sales" and viewer["role"] == "sales"
    assert "crm:write" in viewer["scopes"] and "costing:read" not in viewer["scopes"]


async def test_get_query_needs_a_token_but_graphiql_page_does_not(http, admin_token) -> None:
    assert (await http.get("/graphql", params={"query": "{ viewer { name } }"})).status_code == 401
    ok = await http.get("/graphql", params={"query": "{ viewer { name } }"},
                        headers={"Authorization": f"Bearer {admin_token}"})
    assert ok.json() == {"data": {"viewer": {"name": "test-admin"}}}
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<html" in page.text.lower()


async def test_mutation_without_write_scope_is_forbidden_and_changes_nothing(gql, make_token) -> None:
    finance = await make_token("finance")
    body = await gql(CREATE_ITEM, {"input": {"sku": "X", "name": "x", "kind": "RAW_MATERIAL",
                                              "procurement": "BUY"}}, token=finance)
    assert body["data"]["createItem"] == {"item": None, "errors": [
        {"code": "FORBIDDEN", "field": None, "message": "this operation needs scope inventory:write"}]}
    partner = await make_token("partner")
    body = await gql('mutation { createCustomer(input: {code: "P", name: "P"}) { errors { code } } }',
                     token=partner)
    assert body["data"]["createCustomer"]["errors"] == []  # partners may create customers
    assert (await gql("{ items { totalCount } }"))["data"]["items"]["totalCount"] == 0


async def test_read_without_scope_is_a_forbidden_error(app, sessionmaker) -> None:
    from api.context import Context
    from domain.identity.scopes import Scope
    from domain.identity.services import Principal

    schema = app.routes[0].app.schema
    nobody = Principal(name="n", role="partner", scopes=frozenset({Scope.CRM_READ}))
    context = Context(sessionmaker=sessionmaker, settings=None, principal=nobody)
    for field in ("items { totalCount }", "warehouses { code }", 'item(sku: "X") { sku }'):
        result = await schema.execute("{ %s }" % field, context_value=context)
        assert not any((result.data or {}).values()), field
        assert [e.extensions["code"] for e in result.errors] == ["FORBIDDEN"]
        assert "inventory:read" in result.errors[0].message
    allowed = await schema.execute("{ customers { totalCount } }", context_value=context)
    assert allowed.errors is None and allowed.data == {"customers": {"totalCount": 0}}


async def test_standard_cost_needs_costing_read(gql, make_token) -> None:
    await create_item(gql, "C1", standardCost="12.50")
    query = '{ item(sku: "C1") { standardCost listPrice } }'
    assert (await gql(query))["data"]["item"]["standardCost"] == "12.50"
    for role, visible in (("finance", True), ("production", True), ("sales", False), ("partner", False)):
        token = await make_token(role)
        cost = (await gql(query, token=token))["data"]["item"]["standardCost"]
        assert (cost == "12.50") if visible else (cost is None), role


@pytest.mark.parametrize("payload", [{}, {"Authorization": "Bearer wrong"}, {"token": "wrong"}])
async def test_websocket_without_valid_token_is_closed_4403(live_server, payload) -> None:
    ws = await websockets.connect(live_server.replace("http", "ws") + "/graphql",
                                  subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd.code == 4403


async def test_websocket_with_token_runs_operations_as_the_viewer(live_server, admin_token) -> None:
    async with websockets.connect(live_server.replace("http", "ws") + "/graphql",
                                  subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"Authorization": f"Bearer {admin_token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": "{ viewer { name role } }"}}))
        message = json.loads(await ws.recv())
        assert message["type"] == "next"
        assert message["payload"]["data"] == {"viewer": {"name": "test-admin", "role": "admin"}}


async def test_only_graphql_transport_ws_is_accepted(live_server) -> None:
    async with websockets.connect(live_server.replace("http", "ws") + "/graphql",
                                  subprotocols=["graphql-ws"]) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 4406  # "Subprotocol not acceptable"
