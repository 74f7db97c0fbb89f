"""SalesOrder.statusHistory: every status change, oldest first, batched across orders."""

from __future__ import annotations

from tests.integration import order_builders as build
from tests.integration.sales_helpers import CANCEL, CONFIRM, create_customer, create_order

HISTORY = """
query($first: Int!) { salesOrders(first: $first) { edges { node { number
  statusHistory { cursor status previousStatus reason order { number } }
} } } }"""


async def test_history_of_each_order(gql, sessionmaker, sql_counter) -> None:
    wh = await build.warehouse(sessionmaker, "MAIN", default=True)
    item = build.gid("Item", await build.item(sessionmaker, "A", {wh: "10"}))
    customer = await create_customer(gql, "H1")
    first = (await create_order(gql, customer, [{"itemId": item, "quantity": "2"}]))["order"]
    second = (await create_order(gql, customer, [{"itemId": item, "quantity": "1"}]))["order"]
    await gql(CONFIRM, {"id": first["id"]})
    await gql(CANCEL, {"id": first["id"], "reason": "customer changed mind"})
    await gql("{ viewer { name } }")
    with sql_counter.measure() as counted:
        orders = (await gql(HISTORY, {"first": 10}))["data"]["salesOrders"]["edges"]
    by_number = {o["node"]["number"]: o["node"]["statusHistory"] for o in orders}
    history = by_number[first["number"]]
    assert [(h["previousStatus"], h["status"], h["reason"]) for h in history] == [
        (None, "DRAFT", None), ("DRAFT", "CONFIRMED", None), ("CONFIRMED", "CANCELLED", "customer changed mind"),
    ]
    assert {h["order"]["number"] for h in history} == {first["number"]}
    assert len({h["cursor"] for h in history}) == 3
    assert [(h["previousStatus"], h["status"]) for h in by_number[second["number"]]] == [(None, "DRAFT")]
    assert counted.count <= 4  # page, history batch, orders of the events: never one per order
