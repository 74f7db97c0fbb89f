"""Partners are fenced in: a partner token sees and acts only on customers linked to its
integration (an ExternalRef of its system), on their documents and on the catalogue."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from api.context import Context
from domain.identity.scopes import ROLE_SCOPES
from domain.identity.services import Principal
from domain.integration.models import ExternalRef
from tests.integration.helpers import graphql_ws, snapshot_table
from tests.integration.order_builders import Line, confirmed_order, customer, gid, item, warehouse
from tests.integration.sales_helpers import add_invoice
from tests.integration.test_order_status_stream import (
    START,
    SUBSCRIPTION,
    Stream,
    events_of,
    relay_until,
    set_status,
    wait_subscribed,
)

ERRORS = "errors { code field message }"


@dataclass
class World:
    a_customer: int
    b_customer: int
    internal: int
    orders: dict[str, str]  # owner -> order global id
    quotes: dict[str, str]
    a_token: str
    b_token: str
    item: int


async def link(sm: Any, customer_id: int, system: str) -> None:
    async with sm.begin() as s:
        s.add(ExternalRef(entity_type="Customer", entity_id=customer_id, system=system,
                          external_id=f"{system}-{customer_id}", status="SYNCED"))


CREATE_QUOTE = """mutation($input: QuoteInput!) { createQuote(input: $input) { quote { id status } """ + ERRORS + " } }"
SHIP = """mutation($input: ShipmentInput!) { shipSalesOrder(input: $input) {
  shipment { id } """ + ERRORS + " } }"


@pytest.fixture
async def world(gql: Any, sessionmaker: Any, make_token: Any) -> World:
    main = await warehouse(sessionmaker, "MAIN", default=True)
    widget = await item(sessionmaker, "W", {main: "100"})
    owners = {"a": await customer(sessionmaker, "A-CUST"), "b": await customer(sessionmaker, "B-CUST"),
              "internal": await customer(sessionmaker, "IN-CUST")}
    await link(sessionmaker, owners["a"], "alpha")
    await link(sessionmaker, owners["b"], "beta")
    await link(sessionmaker, owners["internal"], "erp")  # another system: not a partner's
    orders, quotes = {}, {}
    for i, (owner, cust) in enumerate(owners.items()):
        order = await confirmed_order(
            sessionmaker, cust, [Line(widget, "2", "10", reserve=((main, "2"),))], f"SO-{owner.upper()}"
        )
        orders[owner] = order.gid
        shipped = await gql(SHIP, {"input": {"orderId": order.gid}})
        assert shipped["data"]["shipSalesOrder"]["errors"] == [], shipped
        await add_invoice(sessionmaker, gid("Customer", cust), str(20 + i), 0)
        body = await gql(CREATE_QUOTE, {"input": {"customerId": gid("Customer", cust),
                                                  "lines": [{"itemId": gid("Item", widget), "quantity": "1"}]}})
        assert body["data"]["createQuote"]["errors"] == [], body
        quotes[owner] = body["data"]["createQuote"]["quote"]["id"]
    return World(
        owners["a"], owners["b"], owners["internal"], orders, quotes,
        await make_token("partner", "alpha-bot", partner="alpha"),
        await make_token("partner", "beta-bot", partner="beta"),
        widget,
    )


def codes(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["code"] for edge in connection["edges"]]


def numbers(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["number"] for edge in connection["edges"]]


LISTS = """{
  customers(first: 50) { totalCount edges { node { code } } }
  salesOrders(first: 50) { totalCount edges { node { number customer { code } } } }
  quotes(first: 50) { totalCount edges { node { number customer { code } } } }
  invoices(first: 50) { totalCount edges { node { number customer { code } } } }
  shipments(first: 50) { totalCount edges { node { number salesOrder { number } } } }
}"""


async def test_lists_show_a_partner_only_its_own_customers_and_their_documents(gql: Any, world: World) -> None:
    admin = (await gql(LISTS))["data"]
    assert admin["customers"]["totalCount"] == 3 and admin["salesOrders"]["totalCount"] == 3
    for token, own in ((world.a_token, "A-CUST"), (world.b_token, "B-CUST")):
        seen = (await gql(LISTS, token=token))["data"]
        assert codes(seen["customers"]) == [own] and seen["customers"]["totalCount"] == 1
        for documents in ("salesOrders", "quotes", "invoices"):
            assert seen[documents]["totalCount"] == 1, documents
            assert [e["node"]["customer"]["code"] for e in seen[documents]["edges"]] == [own]
        assert seen["shipments"]["totalCount"] == 1
        assert [e["node"]["salesOrder"]["number"] for e in seen["shipments"]["edges"]] == [
            "SO-" + own[0]
        ]


async def test_lookups_by_key_node_and_nodes_do_not_find_another_customers_rows(gql: Any, world: World) -> None:
    token = world.a_token
    query = """query($a: String!, $b: String!) {
      own: customer(code: $a) { code } other: customer(code: $b) { code }
      ownOrder: salesOrder(number: "SO-A") { number } otherOrder: salesOrder(number: "SO-B") { number }
    }"""
    found = (await gql(query, {"a": "A-CUST", "b": "B-CUST"}, token=token))["data"]
    assert found == {"own": {"code": "A-CUST"}, "other": None, "ownOrder": {"number": "SO-A"}, "otherOrder": None}
    internal = (await gql(query, {"a": "A-CUST", "b": "IN-CUST"}, token=token))["data"]
    assert internal["other"] is None

    ids = [gid("Customer", world.a_customer), world.orders["a"], world.quotes["a"],
           gid("Customer", world.b_customer), world.orders["b"], world.quotes["b"],
           gid("Customer", world.internal), world.orders["internal"]]
    nodes = """query($ids: [ID!]!) { nodes(ids: $ids) { id } }"""
    seen = (await gql(nodes, {"ids": ids}, token=token))["data"]["nodes"]
    assert [n["id"] if n else None for n in seen] == ids[:3] + [None] * 5
    for hidden in ids[3:]:
        body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": hidden}, token=token)
        assert body["data"]["node"] is None
    admin = (await gql(nodes, {"ids": ids}))["data"]["nodes"]
    assert all(admin)


async def test_invoices_and_shipments_of_hidden_customers_are_not_nodes(gql: Any, world: World) -> None:
    everything = """{ invoices(first: 10) { edges { node { id customer { code } } } }
                      shipments(first: 10) { edges { node { id salesOrder { customer { code } } } } } }"""
    admin = (await gql(everything))["data"]
    ids = {e["node"]["customer"]["code"]: e["node"]["id"] for e in admin["invoices"]["edges"]}
    ids |= {"S-" + e["node"]["salesOrder"]["customer"]["code"]: e["node"]["id"]
            for e in admin["shipments"]["edges"]}
    body = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                     {"ids": [ids["A-CUST"], ids["B-CUST"], ids["S-A-CUST"], ids["S-B-CUST"]]},
                     token=world.a_token)
    assert [n is not None for n in body["data"]["nodes"]] == [True, False, True, False]


async def test_nested_fields_follow_the_fence(gql: Any, world: World) -> None:
    query = """{ customers(first: 10) { edges { node { code
        orders(first: 10) { totalCount edges { node { number shipments { id } invoices { id } } } }
        quotes(first: 10) { totalCount }
        invoices(first: 10) { totalCount } } } } }"""
    (edge,) = (await gql(query, token=world.a_token))["data"]["customers"]["edges"]
    node = edge["node"]
    assert node["code"] == "A-CUST"
    assert node["orders"]["totalCount"] == 1 and node["quotes"]["totalCount"] == 1
    assert node["invoices"]["totalCount"] == 1
    assert len(node["orders"]["edges"][0]["node"]["shipments"]) == 1


FORBIDDEN_MUTATIONS = {
    "shipSalesOrder": ('mutation($id: ID!) { shipSalesOrder(input: {orderId: $id}) { ' + ERRORS + ' } }', "a"),
    "cancelSalesOrder": ('mutation($id: ID!) { cancelSalesOrder(id: $id, reason: "x") { ' + ERRORS + ' } }', "a"),
    "closeSalesOrderShort": (
        'mutation($id: ID!) { closeSalesOrderShort(id: $id, reason: "x") { ' + ERRORS + ' } }', "a"),
    "releaseCreditHold": ('mutation($id: ID!) { releaseCreditHold(id: $id, note: "x") { ' + ERRORS + ' } }', "a"),
    "invoiceSalesOrder": ('mutation($id: ID!) { invoiceSalesOrder(id: $id) { ' + ERRORS + ' } }', "a"),
}


@pytest.mark.parametrize("name", sorted(FORBIDDEN_MUTATIONS))
async def test_a_partner_may_not_ship_cancel_close_release_or_invoice(
    gql: Any, sessionmaker: Any, world: World, name: str
) -> None:
    query, owner = FORBIDDEN_MUTATIONS[name]
    before = await snapshot_table(sessionmaker, "sales_orders", "shipments", "invoices")
    body = await gql(query, {"id": world.orders[owner]}, token=world.a_token)
    assert [e["code"] for e in body["data"][name]["errors"]] == ["FORBIDDEN"], body
    assert await snapshot_table(sessionmaker, "sales_orders", "shipments", "invoices") == before


async def test_a_partner_may_not_create_leads_nor_set_a_credit_limit(gql: Any, sessionmaker: Any, world: World) -> None:
    before = await snapshot_table(sessionmaker, "leads", "customers", "credit_limit_changes")
    lead = await gql('mutation { createLead(input: {name: "L", company: "X"}) { ' + ERRORS + " } }",
                     token=world.a_token, expect_errors=True)
    if lead.get("data"):
        assert [e["code"] for e in lead["data"]["createLead"]["errors"]] == ["FORBIDDEN"]
    update = await gql('mutation($id: ID!) { updateCustomer(id: $id, input: {creditLimit: "9999"}) { '
                       + ERRORS + " } }", {"id": gid("Customer", world.a_customer)}, token=world.a_token)
    assert [e["code"] for e in update["data"]["updateCustomer"]["errors"]] == ["FORBIDDEN"]
    assert await snapshot_table(sessionmaker, "leads", "customers", "credit_limit_changes") == before


@pytest.mark.parametrize("query", [
    "{ leads(first: 5) { totalCount } }",
    "{ opportunities(first: 5) { totalCount } }",
    "{ payments(first: 5) { totalCount } }",
    "{ customers(first: 5) { edges { node { credit { exposure } } } } }",
    "{ customers(first: 5) { edges { node { opportunities(first: 5) { totalCount } } } } }",
    "{ customers(first: 5) { edges { node { creditLimitHistory { newLimit } } } } }",
])
async def test_internal_reads_are_forbidden_to_a_partner(gql: Any, world: World, query: str) -> None:
    body = await gql(query, token=world.a_token, expect_errors=True)
    assert body.get("errors"), body
    assert {e["extensions"]["code"] for e in body["errors"]} <= {"FORBIDDEN", "GRAPHQL_VALIDATION_FAILED"}
    assert "FORBIDDEN" in {e["extensions"]["code"] for e in body["errors"]}, body


async def test_a_mutation_naming_another_partners_documents_is_not_found_and_changes_nothing(
    gql: Any, sessionmaker: Any, world: World
) -> None:
    tables = ("sales_orders", "sales_order_lines", "quotes", "customers")
    before = await snapshot_table(sessionmaker, *tables)
    confirm = await gql('mutation($id: ID!) { confirmSalesOrder(id: $id) { ' + ERRORS + " } }",
                        {"id": world.orders["b"]}, token=world.a_token)
    assert confirm["data"]["confirmSalesOrder"]["errors"] == [
        {"code": "NOT_FOUND", "field": ["id"], "message": "SalesOrder not found"}]
    order = await gql(
        'mutation($input: SalesOrderInput!) { createSalesOrder(input: $input) { ' + ERRORS + " } }",
        {"input": {"customerId": gid("Customer", world.b_customer),
                   "lines": [{"itemId": gid("Item", world.item), "quantity": "1"}]}}, token=world.a_token)
    assert [(e["code"], e["field"]) for e in order["data"]["createSalesOrder"]["errors"]] == [
        ("NOT_FOUND", ["customerId"])]
    quote = await gql(CREATE_QUOTE, {"input": {"customerId": gid("Customer", world.internal),
                                               "lines": [{"itemId": gid("Item", world.item), "quantity": "1"}]}},
                      token=world.a_token)
    assert [(e["code"], e["field"]) for e in quote["data"]["createQuote"]["errors"]] == [
        ("NOT_FOUND", ["customerId"])]
    update = await gql('mutation($id: ID!) { updateCustomer(id: $id, input: {name: "Mine"}) { ' + ERRORS + " } }",
                       {"id": gid("Customer", world.b_customer)}, token=world.a_token)
    assert [(e["code"], e["field"]) for e in update["data"]["updateCustomer"]["errors"]] == [("NOT_FOUND", ["id"])]
    contact = await gql('mutation($c: ID!) { addContact(customerId: $c, input: {name: "Spy"}) { ' + ERRORS + " } }",
                        {"c": gid("Customer", world.b_customer)}, token=world.a_token)
    assert [(e["code"], e["field"]) for e in contact["data"]["addContact"]["errors"]] == [
        ("NOT_FOUND", ["customerId"])]
    assert await snapshot_table(sessionmaker, *tables, "contacts") == {**before, "contacts": []}


async def test_a_partner_creates_a_customer_quotes_orders_and_confirms_for_it(
    gql: Any, sessionmaker: Any, world: World
) -> None:
    created = await gql(
        'mutation { createCustomer(input: {code: "A-NEW", name: "New at alpha"}) { customer { id code '
        'externalRefs { system status } } ' + ERRORS + " } }", token=world.a_token)
    payload = created["data"]["createCustomer"]
    assert payload["errors"] == []
    assert payload["customer"]["externalRefs"] == [{"system": "alpha", "status": "SYNCED"}]
    new = payload["customer"]["id"]
    mine = (await gql("{ customers(first: 10) { edges { node { code } } } }", token=world.a_token))["data"]
    assert codes(mine["customers"]) == ["A-CUST", "A-NEW"]
    theirs = (await gql("{ customers(first: 10) { edges { node { code } } } }", token=world.b_token))["data"]
    assert codes(theirs["customers"]) == ["B-CUST"]

    lines = [{"itemId": gid("Item", world.item), "quantity": "1", "unitPrice": "10"}]
    quote = await gql(CREATE_QUOTE, {"input": {"customerId": new, "lines": lines}}, token=world.a_token)
    assert quote["data"]["createQuote"]["errors"] == []
    order = await gql(
        'mutation($input: SalesOrderInput!) { createSalesOrder(input: $input) { order { id status } '
        + ERRORS + " } }", {"input": {"customerId": new, "lines": lines}}, token=world.a_token)
    assert order["data"]["createSalesOrder"]["errors"] == []
    order_id = order["data"]["createSalesOrder"]["order"]["id"]
    confirmed = await gql('mutation($id: ID!) { confirmSalesOrder(id: $id) { order { status } ' + ERRORS + " } }",
                          {"id": order_id}, token=world.a_token)
    assert confirmed["data"]["confirmSalesOrder"] == {"order": {"status": "CONFIRMED"}, "errors": []}
    seen = await gql("{ salesOrders(first: 10) { totalCount } quotes(first: 10) { totalCount } }",
                     token=world.b_token)
    assert seen["data"] == {"salesOrders": {"totalCount": 1}, "quotes": {"totalCount": 1}}


# ---------------------------------------------------------------- subscriptions


@pytest.fixture
async def subscribe(app: Any, sessionmaker: Any) -> AsyncIterator[Any]:
    schema = app.routes[0].app.schema
    streams: list[Stream] = []

    async def start(partner: str, **variables: Any) -> Any:
        principal = Principal(name=partner, role="partner", scopes=ROLE_SCOPES["partner"], partner=partner)
        context = Context(sessionmaker=sessionmaker, settings=None, principal=principal,  # type: ignore[arg-type]
                          request=SimpleNamespace(app=app))
        result = await schema.subscribe(SUBSCRIPTION, variable_values=variables, context_value=context)
        if not hasattr(result, "__aiter__"):
            return result
        stream = Stream(result)
        streams.append(stream)
        return stream

    yield start
    for stream in streams:
        await stream.close()


async def order_pk(sessionmaker: Any, number: str) -> int:
    from domain.sales.models import SalesOrder

    async with sessionmaker() as s:
        return int(await s.scalar(select(SalesOrder.id).where(SalesOrder.number == number)))


async def test_order_events_of_other_customers_never_reach_a_partner(
    app: Any, sessionmaker: Any, redis: aioredis.Redis, world: World, subscribe: Any
) -> None:
    engine: AsyncEngine = app.state.resources.engine
    alpha = await subscribe("alpha", after=START)  # replayed: the world's confirmations and shipments
    replayed = await events_of(alpha, 10, timeout=2.0)
    assert replayed and {e["order"]["number"] for e in replayed} == {"SO-A"}
    beta_live = await subscribe("beta")
    await wait_subscribed(app, 2)

    published = len(replayed)
    for number in ("SO-B", "SO-INTERNAL", "SO-A"):
        await set_status(sessionmaker, await order_pk(sessionmaker, number), "CLOSED")
    await relay_until(redis, engine, 3)
    (live,) = await events_of(alpha, 1)
    assert (live["order"]["number"], live["status"]) == ("SO-A", "CLOSED")
    assert await alpha.nothing_more()
    (beta,) = await events_of(beta_live, 1)
    assert beta["order"]["number"] == "SO-B"
    assert await beta_live.nothing_more()
    assert published >= 1

    refused = await subscribe("alpha", orderId=world.orders["b"])
    error = refused.errors[0] if not isinstance(refused, Stream) else (await refused.take(1))[0].errors[0]
    assert error.extensions["code"] == "NOT_FOUND"


async def test_kitting_analysis_of_another_customers_order_is_not_found(gql: Any, world: World) -> None:
    query = """query($so: ID) { kittingAnalysis(salesOrderId: $so) { complete } }"""
    own = await gql(query, {"so": world.orders["a"]}, token=world.a_token)
    assert own["data"]["kittingAnalysis"] is not None
    for owner in ("b", "internal"):
        body = await gql(query, {"so": world.orders[owner]}, token=world.a_token, expect_errors=True)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"], body
    assert (await gql(query, {"so": world.orders["b"]}))["data"]["kittingAnalysis"] is not None


async def test_a_partner_sees_only_its_own_systems_external_refs(gql: Any, sessionmaker: Any, world: World) -> None:
    await link(sessionmaker, world.a_customer, "erp")  # also in the company's ERP
    query = "query($id: ID!) { node(id: $id) { ... on Customer { externalRefs { system externalId } } } }"
    variables = {"id": gid("Customer", world.a_customer)}
    admin = (await gql(query, variables))["data"]["node"]["externalRefs"]
    assert [ref["system"] for ref in admin] == ["alpha", "erp"]
    partner = (await gql(query, variables, token=world.a_token))["data"]["node"]["externalRefs"]
    assert partner == [{"system": "alpha", "externalId": f"alpha-{world.a_customer}"}]


async def test_over_a_real_websocket_a_partner_replays_only_its_own_orders(
    world: World, live_server: str
) -> None:
    async with await graphql_ws(live_server, world.b_token) as ws:
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": SUBSCRIPTION, "variables": {"after": START}}}))
        numbers: list[str] = []
        with contextlib.suppress(TimeoutError):
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 1.5))
                assert message["type"] == "next", message
                numbers.append(message["payload"]["data"]["orderStatusChanged"]["order"]["number"])
    assert numbers and set(numbers) == {"SO-B"}
