"""Purchase orders after creation: updatePurchaseOrder, cancelPurchaseOrder, the purchaseOrders list,
and the promises of backorders that counted on their receipts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy import update as update_table

from api.relay import to_global_id
from domain.inventory.models import Item
from domain.planning.models import PlannedOrder
from domain.shared.events import DomainEvent
from tests.integration.helpers import create_item, create_supplier, create_warehouse, snapshot_table
from tests.integration.sales_helpers import confirm, create_customer, draft, pk
from tests.integration.test_purchasing import receive

TODAY = date.today()
ERRORS = "errors { code field message }"
PO = "purchaseOrder { id number status supplier { code } lines { id item { sku } quantity receivedQuantity" \
     " cancelledQuantity unitCost dueDate } }"
UPDATE = ("mutation($id: ID!, $input: PurchaseOrderUpdateInput!) { updatePurchaseOrder(id: $id, input: $input) {"
          + PO + " " + ERRORS + " } }")
CANCEL = ("mutation($id: ID!, $reason: String!) { cancelPurchaseOrder(id: $id, reason: $reason) {"
          + PO + " " + ERRORS + " } }")
ORDER = """
query($id: ID!) { node(id: $id) { ... on SalesOrder { status promisedDate lines { promisedDate }
  statusHistory { status previousStatus reason } } } }"""
LIST = """
query($status: [PurchaseOrderStatus!], $supplierId: ID, $itemId: ID, $first: Int, $after: String) {
  purchaseOrders(status: $status, supplierId: $supplierId, itemId: $itemId, first: $first, after: $after) {
    totalCount edges { node { number } } pageInfo { hasNextPage endCursor } } }"""
CREATE = ("mutation($input: PurchaseOrderInput!) { createPurchaseOrder(input: $input) {"
          + PO + " " + ERRORS + " } }")
TABLES = ("purchase_orders", "purchase_order_lines", "sales_orders", "sales_order_lines", "stock_moves")


def due(days: int) -> str:
    return str(TODAY + timedelta(days=days))


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


def shape(po: dict[str, Any]) -> list[tuple[str, str, str, str | None, str]]:
    return [(ln["item"]["sku"], ln["quantity"], ln["receivedQuantity"], ln["unitCost"], ln["dueDate"])
            for ln in po["lines"]]


async def create_po(gql: Any, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Placed with ACME-PARTS unless ``supplierId`` is given; its lines come with their ids."""
    if "supplierId" not in extra:
        extra["supplierId"] = await create_supplier(gql, "ACME-PARTS", "Acme Parts", reuse=True)
    payload = (await gql(CREATE, {"input": {"lines": lines} | extra}))["data"]["createPurchaseOrder"]
    assert payload["errors"] == [], payload
    return dict(payload)


async def update(gql: Any, po_id: str, token: str | None = None, **fields: Any) -> dict[str, Any]:
    return dict((await gql(UPDATE, {"id": po_id, "input": fields}, token=token))["data"]["updatePurchaseOrder"])


async def cancel(gql: Any, po_id: str, reason: str = "supplier cannot deliver",
                 token: str | None = None) -> dict[str, Any]:
    body = await gql(CANCEL, {"id": po_id, "reason": reason}, token=token)
    return dict(body["data"]["cancelPurchaseOrder"])


async def order_state(gql: Any, order_id: str) -> dict[str, Any]:
    return dict((await gql(ORDER, {"id": order_id}))["data"]["node"])


def promise_moves(order: dict[str, Any]) -> list[str]:
    return [h["reason"] for h in order["statusHistory"] if h["status"] == h["previousStatus"]]


def moved(old: int, new: int, cause: str) -> str:
    return f"promised date moved from {due(old)} to {due(new)}: {cause}"


@pytest.fixture
async def world(gql, sessionmaker) -> dict[str, str]:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    return {
        "bolt": await create_item(gql, "BOLT", leadTimeDays=30),
        "nut": await create_item(gql, "NUT", leadTimeDays=30),
        "washer": await create_item(gql, "WASHER", leadTimeDays=30),
        "customer": await create_customer(gql, "ACME"),
    }


async def bolts_promised_on_a_purchase_order(gql: Any, world: dict[str, str]) -> tuple[dict[str, Any], str]:
    """A PO of 10 bolts due in 7 days (and 4 nuts due in 9); an order for 5 bolts promised on day 7."""
    po = (await create_po(gql, [
        {"itemId": world["bolt"], "quantity": "10", "unitCost": "1.5", "dueDate": due(7)},
        {"itemId": world["nut"], "quantity": "4", "dueDate": due(9)},
    ]))["purchaseOrder"]
    order = await draft(gql, world["customer"], world["bolt"], "5")
    assert (await confirm(gql, order))["order"]["promisedDate"] == due(7)
    return po, order


async def test_update_lines_and_the_promise_follows(gql, sessionmaker, world) -> None:
    po, order = await bolts_promised_on_a_purchase_order(gql, world)
    bolt_line, _nut_line = (ln["id"] for ln in po["lines"])
    payload = await update(gql, po["id"], lines=[
        {"id": bolt_line, "quantity": "3"},
        {"itemId": world["washer"], "quantity": "8", "unitCost": "0.1", "dueDate": due(12)},
    ])
    assert payload["errors"] == []
    changed = payload["purchaseOrder"]
    assert changed["status"] == "OPEN" and changed["lines"][0]["id"] == bolt_line
    assert shape(changed) == [("BOLT", "3.00", "0.00", "1.50", due(7)), ("WASHER", "8.00", "0.00", "0.10", due(12))]
    # 3 bolts arriving no longer cover 5: the order waits for the lead time
    cause = f"purchase order {po['number']} changed"
    state = await order_state(gql, order)
    assert (state["status"], state["promisedDate"]) == ("CONFIRMED", due(30))
    assert promise_moves(state) == [moved(7, 30, cause)]
    async with sessionmaker() as s:
        event = (await s.execute(select(DomainEvent.payload).where(
            DomainEvent.type == "purchase_order.updated"))).scalar_one()
    assert event["changedLineIds"] == [pk(bolt_line)] and len(event["addedLineIds"]) == 1
    assert len(event["removedLineIds"]) == 1

    # the way back: more bolts, and a due date later than before
    back = await update(gql, po["id"], lines=[
        {"id": ln["id"], "quantity": "10", "dueDate": due(8)} if ln["item"]["sku"] == "BOLT" else {"id": ln["id"]}
        for ln in changed["lines"]
    ])
    assert back["errors"] == [] and shape(back["purchaseOrder"])[0] == ("BOLT", "10.00", "0.00", "1.50", due(8))
    state = await order_state(gql, order)
    assert state["promisedDate"] == due(8) and promise_moves(state) == [moved(7, 30, cause), moved(30, 8, cause)]
    # the same lines again change nothing and record nothing
    before = await snapshot_table(sessionmaker, *TABLES)
    same = await update(gql, po["id"], lines=[{"id": ln["id"]} for ln in back["purchaseOrder"]["lines"]])
    assert same["errors"] == [] and await snapshot_table(sessionmaker, *TABLES) == before
    # the order of the lines given is the order's line order
    reordered = await update(gql, po["id"], lines=[{"id": ln["id"]} for ln in reversed(back["purchaseOrder"]["lines"])])
    assert [ln["item"]["sku"] for ln in reordered["purchaseOrder"]["lines"]] == ["WASHER", "BOLT"]


async def test_received_lines_keep_what_was_received(gql, sessionmaker, world) -> None:
    other = await create_supplier(gql, "OTHER")
    po = (await create_po(gql, [
        {"itemId": world["bolt"], "quantity": "10", "unitCost": "1.5", "dueDate": due(5)},
        {"itemId": world["nut"], "quantity": "4", "dueDate": due(5)},
    ]))["purchaseOrder"]
    assert (await receive(gql, po["id"], [{"itemId": world["bolt"], "quantity": "6"}]))["errors"] == []
    bolt, nut = ({"id": ln["id"]} for ln in po["lines"])
    before = await snapshot_table(sessionmaker, *TABLES)
    cases: list[tuple[dict[str, Any], list[tuple[str, list[str] | None]]]] = [
        ({"lines": [nut]}, [("INVALID_STATE", ["lines"])]),
        ({"lines": [bolt | {"quantity": "5.5"}, nut]}, [("INVALID_STATE", ["lines", "0"])]),
        ({"lines": [bolt | {"itemId": world["washer"]}, nut]}, [("INVALID_STATE", ["lines", "0", "itemId"])]),
        ({"lines": [bolt | {"unitCost": "2"}, nut]}, [("INVALID_STATE", ["lines", "0", "unitCost"])]),
        ({"lines": [bolt | {"unitCost": None}, nut]}, [("INVALID_STATE", ["lines", "0", "unitCost"])]),
        ({"supplierId": other}, [("INVALID_STATE", ["supplierId"])]),
    ]
    for fields, expected in cases:
        payload = await update(gql, po["id"], **fields)
        assert payload["purchaseOrder"] is None and errors(payload) == expected, fields
    assert await snapshot_table(sessionmaker, *TABLES) == before
    # down to what was received, the other line removed: nothing is left open
    done = await update(gql, po["id"], lines=[bolt | {"quantity": "6", "dueDate": due(6)}])
    assert done["errors"] == [] and done["purchaseOrder"]["status"] == "RECEIVED"
    assert shape(done["purchaseOrder"]) == [("BOLT", "6.00", "6.00", "1.50", due(6))]


async def test_supplier_changes_while_nothing_was_received(gql, sessionmaker, world) -> None:
    other = await create_supplier(gql, "OTHER")
    old = await create_supplier(gql, "OLD")
    po = (await create_po(gql, [{"itemId": world["bolt"], "quantity": "1", "dueDate": due(5)}]))["purchaseOrder"]
    moved_po = await update(gql, po["id"], supplierId=other)
    assert moved_po["errors"] == [] and moved_po["purchaseOrder"]["supplier"] == {"code": "OTHER"}
    assert (await gql("mutation($id: ID!) { updateSupplier(id: $id, input: {active: false}) { errors { code } } }",
                      {"id": old}))["data"]["updateSupplier"]["errors"] == []
    before = await snapshot_table(sessionmaker, *TABLES)
    for supplier, code in ((old, "INVALID_STATE"), (to_global_id("Supplier", 999), "NOT_FOUND"),
                           (world["bolt"], "NOT_FOUND"), ("garbage", "INVALID")):
        assert errors(await update(gql, po["id"], supplierId=supplier)) == [(code, ["supplierId"])], supplier
    assert await snapshot_table(sessionmaker, *TABLES) == before
    # an order of an inactive supplier does not change, but it can be cancelled
    old_po = (await create_po(gql, [{"itemId": world["bolt"], "quantity": "1", "dueDate": due(5)}],
                              supplierId=other))["purchaseOrder"]
    assert (await gql("mutation($id: ID!) { updateSupplier(id: $id, input: {active: false}) { errors { code } } }",
                      {"id": other}))["data"]["updateSupplier"]["errors"] == []
    before = await snapshot_table(sessionmaker, *TABLES)
    line = {"id": old_po["lines"][0]["id"], "quantity": "2"}
    assert errors(await update(gql, old_po["id"], lines=[line])) == [("INVALID_STATE", ["supplierId"])]
    assert await snapshot_table(sessionmaker, *TABLES) == before
    assert (await cancel(gql, old_po["id"]))["purchaseOrder"]["status"] == "CANCELLED"


async def test_bad_updates_change_nothing(gql, sessionmaker, world) -> None:
    po, _ = await bolts_promised_on_a_purchase_order(gql, world)
    other = (await create_po(gql, [{"itemId": world["nut"], "quantity": "1", "dueDate": due(3)}]))["purchaseOrder"]
    bolt, nut = ({"id": ln["id"]} for ln in po["lines"])
    inactive = await create_item(gql, "OLD-BOLT")
    async with sessionmaker.begin() as s:
        await s.execute(update_table(Item).where(Item.id == pk(inactive)).values(active=False))
    async with sessionmaker.begin() as s:  # a firmed planned order points at the nut line
        s.add(PlannedOrder(run_id=1, item_id=pk(world["nut"]), kind="PURCHASE", status="FIRMED", quantity=4,
                           release_date=TODAY, due_date=TODAY + timedelta(days=9),
                           purchase_order_line_id=pk(nut["id"])))
    before = await snapshot_table(sessionmaker, *TABLES)
    new = {"itemId": world["washer"], "quantity": "1", "dueDate": due(3)}
    cases: list[tuple[str, dict[str, Any], list[tuple[str, list[str] | None]]]] = [
        (po["id"], {"lines": []}, [("INVALID", ["lines"])]),
        (po["id"], {"lines": [bolt | {"quantity": "0"}, nut]}, [("INVALID", ["lines", "0", "quantity"])]),
        (po["id"], {"lines": [bolt, nut, new | {"unitCost": "-1"}]}, [("INVALID", ["lines", "2", "unitCost"])]),
        (po["id"], {"lines": [bolt, nut, {"itemId": world["washer"]}]},
         [("INVALID", ["lines", "2", "quantity"]), ("INVALID", ["lines", "2", "dueDate"])]),
        (po["id"], {"lines": [bolt | {"quantity": None}, nut]}, [("INVALID", ["lines", "0", "quantity"])]),
        (po["id"], {"lines": [bolt, nut, bolt]}, [("INVALID", ["lines", "2", "id"])]),
        (po["id"], {"lines": [bolt, nut, {"id": other["lines"][0]["id"]}]}, [("NOT_FOUND", ["lines", "2", "id"])]),
        (po["id"], {"lines": [bolt, {"id": "garbage"}]}, [("INVALID", ["lines", "1", "id"])]),
        (po["id"], {"lines": [bolt, nut, new | {"itemId": inactive}]}, [("INVALID_STATE", ["lines", "2", "itemId"])]),
        (po["id"], {"lines": [bolt, nut | {"itemId": to_global_id("Item", 999)}]},
         [("NOT_FOUND", ["lines", "1", "itemId"])]),
        (po["id"], {"lines": [bolt]}, [("INVALID_STATE", ["lines"])]),  # the firmed nut line
        ("garbage", {"lines": [bolt, nut]}, [("INVALID", ["id"])]),
        (world["bolt"], {"lines": [bolt, nut]}, [("NOT_FOUND", ["id"])]),
        (to_global_id("PurchaseOrder", 999), {"lines": [bolt, nut]}, [("NOT_FOUND", ["id"])]),
    ]
    for po_id, fields, expected in cases:
        payload = await update(gql, po_id, **fields)
        assert payload["purchaseOrder"] is None and sorted(errors(payload)) == sorted(expected), fields
    assert await snapshot_table(sessionmaker, *TABLES) == before


async def test_cancel_moves_the_promise_and_ends_the_order(gql, sessionmaker, world) -> None:
    po, order = await bolts_promised_on_a_purchase_order(gql, world)
    before = await snapshot_table(sessionmaker, *TABLES)
    assert errors(await cancel(gql, po["id"], reason="  ")) == [("INVALID", ["reason"])]
    assert errors(await cancel(gql, "garbage")) == [("INVALID", ["id"])]
    assert errors(await cancel(gql, world["bolt"])) == [("NOT_FOUND", ["id"])]
    assert await snapshot_table(sessionmaker, *TABLES) == before

    second = await draft(gql, world["customer"], world["bolt"], "3")  # 5 + 3 of the 10 arriving
    assert (await confirm(gql, second))["order"]["promisedDate"] == due(7)
    payload = await cancel(gql, po["id"])
    assert payload["errors"] == [] and payload["purchaseOrder"]["status"] == "CANCELLED"
    for order_id in (order, second):  # one event each, naming the purchase order
        state = await order_state(gql, order_id)
        assert (state["status"], state["promisedDate"], state["lines"]) == (
            "CONFIRMED", due(30), [{"promisedDate": due(30)}])
        assert promise_moves(state) == [moved(7, 30, f"purchase order {po['number']} cancelled")]
    async with sessionmaker() as s:
        event = (await s.execute(select(DomainEvent.payload).where(
            DomainEvent.type == "purchase_order.cancelled"))).scalar_one()
    assert (event["reason"], event["previousStatus"], len(event["cancelled"])) == (
        "supplier cannot deliver", "OPEN", 2)
    incoming = await gql("query($id: ID!) { node(id: $id) { ... on Item { incoming } } }", {"id": world["bolt"]})
    assert incoming["data"]["node"]["incoming"] == "0.00"

    before = await snapshot_table(sessionmaker, *TABLES)
    for refused in (await cancel(gql, po["id"]), await update(gql, po["id"], lines=[{"id": po["lines"][0]["id"]}]),
                    await receive(gql, po["id"])):
        assert errors(refused) == [("INVALID_STATE", ["id"])]
    assert await snapshot_table(sessionmaker, *TABLES) == before


async def test_cancelling_a_partly_received_order_leaves_it_received(gql, sessionmaker, world) -> None:
    po = (await create_po(gql, [
        {"itemId": world["bolt"], "quantity": "10", "dueDate": due(5)},
        {"itemId": world["nut"], "quantity": "4", "dueDate": due(5)},
    ]))["purchaseOrder"]
    assert (await receive(gql, po["id"], [{"itemId": world["bolt"], "quantity": "6"}]))["errors"] == []
    payload = await cancel(gql, po["id"])
    assert payload["errors"] == [] and payload["purchaseOrder"]["status"] == "RECEIVED"
    assert shape(payload["purchaseOrder"]) == [
        ("BOLT", "10.00", "6.00", None, due(5)), ("NUT", "4.00", "0.00", None, due(5))]
    # each line says what was taken off it
    assert [line["cancelledQuantity"] for line in payload["purchaseOrder"]["lines"]] == ["4.00", "4.00"]
    for item in ("bolt", "nut"):
        node = await gql("query($id: ID!) { node(id: $id) { ... on Item { incoming } } }", {"id": world[item]})
        assert node["data"]["node"]["incoming"] == "0.00"


async def test_changes_need_the_purchasing_write_scope(gql, sessionmaker, make_token, world) -> None:
    po = (await create_po(gql, [{"itemId": world["bolt"], "quantity": "1", "dueDate": due(5)}]))["purchaseOrder"]
    sales = await make_token("sales")
    before = await snapshot_table(sessionmaker, *TABLES)
    assert errors(await update(gql, po["id"], token=sales, lines=[{"id": po["lines"][0]["id"], "quantity": "2"}])) == [
        ("FORBIDDEN", None)]
    assert errors(await cancel(gql, po["id"], token=sales)) == [("FORBIDDEN", None)]
    assert await snapshot_table(sessionmaker, *TABLES) == before
    listed = await gql(LIST, {}, token=sales, expect_errors=True)
    assert listed["data"] is None and "FORBIDDEN" in listed["errors"][0]["message"]
    production = await make_token("production")
    assert (await update(gql, po["id"], token=production,
                         lines=[{"id": po["lines"][0]["id"], "quantity": "2"}]))["errors"] == []
    assert (await cancel(gql, po["id"], token=production))["errors"] == []


async def test_purchase_orders_list_filters(gql, world) -> None:
    other = await create_supplier(gql, "OTHER")
    bolts = (await create_po(gql, [{"itemId": world["bolt"], "quantity": "1", "dueDate": due(5)}]))["purchaseOrder"]
    mixed = (await create_po(gql, [{"itemId": world["nut"], "quantity": "1", "dueDate": due(5)},
                                   {"itemId": world["bolt"], "quantity": "1", "dueDate": due(5)}],
                             supplierId=other))["purchaseOrder"]
    nuts = (await create_po(gql, [{"itemId": world["nut"], "quantity": "1", "dueDate": due(5)}]))["purchaseOrder"]
    assert (await cancel(gql, nuts["id"]))["errors"] == []

    async def numbers(**variables: Any) -> tuple[int, list[str]]:
        found = (await gql(LIST, variables))["data"]["purchaseOrders"]
        return found["totalCount"], [e["node"]["number"] for e in found["edges"]]

    everything = [bolts["number"], mixed["number"], nuts["number"]]
    assert await numbers() == (3, everything)
    assert await numbers(status=["OPEN"]) == (2, everything[:2])
    assert await numbers(status=["CANCELLED", "RECEIVED"]) == (1, [nuts["number"]])
    assert await numbers(supplierId=other) == (1, [mixed["number"]])
    assert await numbers(itemId=world["bolt"]) == (2, everything[:2])
    assert await numbers(itemId=world["nut"], status=["OPEN"]) == (1, [mixed["number"]])
    assert await numbers(supplierId="garbage") == (0, [])
    assert await numbers(itemId=other) == (0, [])
    page = (await gql(LIST, {"first": 2}))["data"]["purchaseOrders"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert await numbers(first=2, after=page["pageInfo"]["endCursor"]) == (3, [nuts["number"]])


async def test_a_new_purchase_order_brings_waiting_promises_forward(gql, world) -> None:
    """5 bolts ordered with none on hand nor coming: promised at the lead time (day 30).
    A purchase order of 10 due on day 7 is placed: the order is promised on day 7 at once,
    and its history says why. A purchase order of other items moves nothing."""
    order = await draft(gql, world["customer"], world["bolt"], "5")
    assert (await confirm(gql, order))["order"]["promisedDate"] == due(30)
    assert (await create_po(gql, [{"itemId": world["nut"], "quantity": "4", "dueDate": due(3)}]))["errors"] == []
    assert promise_moves(await order_state(gql, order)) == []  # nuts: nothing this order waits for
    po = (await create_po(gql, [{"itemId": world["bolt"], "quantity": "10", "dueDate": due(7)}]))["purchaseOrder"]
    state = await order_state(gql, order)
    assert state["promisedDate"] == due(7)
    assert promise_moves(state) == [moved(30, 7, f"purchase order {po['number']} placed")]
