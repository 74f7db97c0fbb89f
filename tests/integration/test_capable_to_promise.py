"""Capable to promise over the graph: a made item is promised from its components.

FG (made in 2 days) takes 2 WHEEL (bought in 30 days) and 1 FRAME (made in 3 days
from 1 TUBE, bought in 20 days): 32 days from nothing, 2 days when its components
are in stock.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.integration.helpers import SET_BOM, adjust, create_item, create_warehouse
from tests.integration.sales_helpers import confirm, create_customer, draft
from tests.integration.test_purchasing import create_po

TODAY = date.today()
ATP = """
query($id: ID!, $q: Decimal!) { node(id: $id) { ... on Item {
  availableToPromise(quantity: $q) { quantity availableNow date limitedBy { sku } } } } }"""
ITEMS_ATP = """
query { items(first: 10) { edges { node { sku availableToPromise(quantity: "3") { date limitedBy { sku } } } } } }"""


def due(days: int) -> str:
    return str(TODAY + timedelta(days=days))


async def bom(gql: Any, item_id: str, lines: list[tuple[str, str]]) -> None:
    body = await gql(SET_BOM, {"itemId": item_id, "input": {"lines": [
        {"componentId": component, "quantity": quantity} for component, quantity in lines]}})
    assert body["data"]["setBom"]["errors"] == [], body


@pytest.fixture
async def world(gql, sessionmaker) -> dict[str, str]:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    ids = {
        "fg": await create_item(gql, "FG", kind="FINISHED", procurement="MAKE", leadTimeDays=2),
        "frame": await create_item(gql, "FRAME", kind="SEMI_FINISHED", procurement="MAKE", leadTimeDays=3),
        "wheel": await create_item(gql, "WHEEL", leadTimeDays=30),
        "tube": await create_item(gql, "TUBE", leadTimeDays=20),
    }
    await bom(gql, ids["fg"], [(ids["wheel"], "2"), (ids["frame"], "1")])
    await bom(gql, ids["frame"], [(ids["tube"], "1")])
    return ids


async def atp(gql: Any, item_id: str, quantity: str) -> tuple[str, str | None]:
    body = await gql(ATP, {"id": item_id, "q": quantity})
    result = body["data"]["node"]["availableToPromise"]
    return result["date"], (result["limitedBy"] or {}).get("sku")


async def test_a_made_item_is_promised_from_its_components(gql, world) -> None:
    fg = world["fg"]
    # nothing anywhere: the old worst case, the slowest chain (2 + 30) of bought wheels
    assert await atp(gql, fg, "2") == (due(32), "WHEEL")
    for sku, quantity in (("wheel", "10"), ("frame", "5"), ("tube", "10"), ("fg", "1")):
        await adjust(gql, world[sku], quantity)
    # stock covers: today, nothing limits
    assert await atp(gql, fg, "1") == (due(0), None)
    # every component in stock: FG's own lead time, not 32 days
    assert await atp(gql, fg, "2") == (due(2), "FG")
    assert await atp(gql, fg, "6") == (due(2), "FG")  # 1 in stock, 5 made from 10 wheels and 5 frames
    # 7: 6 made need 12 wheels; the 2 missing take the wheels' lead time
    assert await atp(gql, fg, "7") == (due(32), "WHEEL")
    po = await create_po(gql, [{"itemId": world["wheel"], "quantity": "10", "dueDate": due(10)}])
    assert po["errors"] == [], po
    assert await atp(gql, fg, "7") == (due(12), "WHEEL")
    # 11: 10 made need a sixth frame, made in 3 days from a tube in stock; the wheels still limit
    assert await atp(gql, fg, "11") == (due(12), "WHEEL")
    assert await atp(gql, world["frame"], "7") == (due(3), "FRAME")


async def test_two_orders_for_the_same_components_get_different_dates(gql, world) -> None:
    for sku, quantity in (("wheel", "10"), ("frame", "5"), ("tube", "10"), ("fg", "1")):
        await adjust(gql, world[sku], quantity)
    await create_po(gql, [{"itemId": world["wheel"], "quantity": "10", "dueDate": due(10)}])
    customer = await create_customer(gql, "ACME")
    first = (await confirm(gql, await draft(gql, customer, world["fg"], "6")))["order"]
    line = first["lines"][0]
    assert (line["reservedQuantity"], line["backorderedQuantity"]) == ("1.00", "5.00")
    assert first["promisedDate"] == due(2)  # made from the wheels and frames in stock
    # the first order's backorder claims 10 wheels and 5 frames: the second waits for the
    # purchase order, and its frames are made from tubes
    second = (await confirm(gql, await draft(gql, customer, world["fg"], "5")))["order"]
    assert second["promisedDate"] == due(12)
    # both claim: a third gets the wheels' lead time
    assert await atp(gql, world["fg"], "1") == (due(32), "WHEEL")
    # a wheel sold on its own is short too: the two orders claim the stock and the receipt
    assert await atp(gql, world["wheel"], "11") == (due(30), "WHEEL")


async def test_a_list_of_items_promises_in_a_few_statements(gql, world, sql_counter) -> None:
    for sku, quantity in (("wheel", "10"), ("frame", "5"), ("tube", "10")):
        await adjust(gql, world[sku], quantity)
    with sql_counter.measure() as counted:
        body = await gql(ITEMS_ATP)
    found = {e["node"]["sku"]: e["node"]["availableToPromise"] for e in body["data"]["items"]["edges"]}
    assert found == {
        "FG": {"date": due(2), "limitedBy": {"sku": "FG"}},
        "FRAME": {"date": due(0), "limitedBy": None},
        "WHEEL": {"date": due(0), "limitedBy": None},
        "TUBE": {"date": due(0), "limitedBy": None},
    }
    # the page; the ATP load: BOM closure, stock, two kinds of receipts, claims (backorders
    # and work orders' components to issue in one); limitedBy's items
    assert counted.count == 7
    # one level more and more items: the same statements
    bike = await create_item(gql, "BIKE", kind="FINISHED", procurement="MAKE", leadTimeDays=1)
    await bom(gql, bike, [(world["fg"], "1"), (await create_item(gql, "BELL", leadTimeDays=4), "1")])
    with sql_counter.measure() as again:
        body = await gql(ITEMS_ATP)
    found = {e["node"]["sku"]: e["node"]["availableToPromise"] for e in body["data"]["items"]["edges"]}
    assert found["BIKE"] == {"date": due(5), "limitedBy": {"sku": "BELL"}}
    assert again.count == counted.count


async def test_a_work_order_re_promises_the_backorder_and_claims_the_components(gql, world) -> None:
    from tests.integration.test_work_orders import create_wo

    await create_po(gql, [{"itemId": world["wheel"], "quantity": "10", "dueDate": due(10)}])
    await adjust(gql, world["frame"], "10")
    customer = await create_customer(gql, "ACME")
    first = (await confirm(gql, await draft(gql, customer, world["fg"], "5")))["order"]
    assert first["promisedDate"] == due(12)  # made from the wheels on order
    assert await atp(gql, world["fg"], "1") == (due(32), "WHEEL")  # the first claims them all
    # a work order for the five: the backorder follows it; the work order, not the
    # backorder, now claims the wheels (at its start, due date − lead time)
    payload = await create_wo(gql, world["fg"], "5", dueDate=due(4))
    assert payload["errors"] == [], payload
    order = (await gql("query($id: ID!) { node(id: $id) { ... on SalesOrder { promisedDate } } }",
                       {"id": first["id"]}))["data"]["node"]
    assert order["promisedDate"] == due(4)
    assert await atp(gql, world["fg"], "1") == (due(32), "WHEEL")
    assert await atp(gql, world["wheel"], "1") == (due(30), "WHEEL")  # not the order's day 10
    # released, it claims by its component rows, the same quantities
    released = await gql("mutation($id: ID!) { releaseWorkOrder(id: $id) { errors { code } } }",
                         {"id": payload["workOrder"]["id"]})
    assert released["data"]["releaseWorkOrder"]["errors"] == []
    assert await atp(gql, world["fg"], "1") == (due(32), "WHEEL")
    assert await atp(gql, world["wheel"], "1") == (due(30), "WHEEL")


async def test_a_work_order_for_a_component_re_promises_the_made_item(gql, world) -> None:
    from tests.integration.test_work_orders import create_wo

    await adjust(gql, world["wheel"], "10")
    customer = await create_customer(gql, "ACME")
    order = (await confirm(gql, await draft(gql, customer, world["fg"], "5")))["order"]
    assert order["promisedDate"] == due(25)  # frames made from tubes bought in 20 days
    assert await atp(gql, world["fg"], "5") == (due(32), "WHEEL")
    payload = await create_wo(gql, world["frame"], "5", dueDate=due(6))
    assert payload["errors"] == [], payload
    number = payload["workOrder"]["number"]
    node = (await gql("query($id: ID!) { node(id: $id) { ... on SalesOrder { promisedDate lines { promisedDate }"
                      " statusHistory { reason } } } }", {"id": order["id"]}))["data"]["node"]
    assert node["promisedDate"] == node["lines"][0]["promisedDate"] == due(8)
    assert node["statusHistory"][-1]["reason"] == (
        f"promised date moved from {due(25)} to {due(8)}: work order {number} created")
