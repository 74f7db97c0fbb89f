"""Purchase orders: create, receive (partial, full, all open), incoming stock and ATP receipts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from api.relay import to_global_id
from domain.inventory.models import StockBalance, StockMove
from domain.purchasing.models import PurchaseOrder, PurchaseOrderLine
from domain.shared.events import DomainEvent
from tests.integration.helpers import adjust, create_item, create_supplier, create_warehouse
from tests.integration.sales_helpers import confirm, create_customer, draft, ledger_consistent, pk

TODAY = date.today()
ERRORS = "errors { code field message }"
PO_FIELDS = """
  id number supplier { code name } status subcontract
  lines { item { sku } quantity receivedQuantity unitCost dueDate }
"""
CREATE = (
    "mutation($input: PurchaseOrderInput!) { createPurchaseOrder(input: $input) { purchaseOrder {"
    + PO_FIELDS + "} " + ERRORS + " } }"
)
RECEIVE = (
    "mutation($id: ID!, $lines: [ReceiptLineInput!]) { receivePurchaseOrder(id: $id, lines: $lines) {"
    " purchaseOrder {" + PO_FIELDS + "} " + ERRORS + " } }"
)
ITEM = "query($id: ID!) { node(id: $id) { ... on Item { onHand incoming } } }"


async def create_po(gql: Any, lines: list[dict[str, Any]], token: str | None = None,
                    **extra: Any) -> dict[str, Any]:
    """Placed with the supplier ACME-PARTS (created on first use) unless ``supplierId`` is given."""
    if "supplierId" not in extra:
        extra["supplierId"] = await create_supplier(gql, "ACME-PARTS", "Acme Parts", reuse=True)
    body = await gql(CREATE, {"input": {"lines": lines} | extra}, token=token)
    return dict(body["data"]["createPurchaseOrder"])


async def receive(gql: Any, po_id: str, lines: list[dict[str, Any]] | None = None,
                  token: str | None = None) -> dict[str, Any]:
    body = await gql(RECEIVE, {"id": po_id, "lines": lines}, token=token)
    return dict(body["data"]["receivePurchaseOrder"])


async def item_stock(gql: Any, item_id: str) -> tuple[str, str]:
    node = (await gql(ITEM, {"id": item_id}))["data"]["node"]
    return node["onHand"], node["incoming"]


async def snapshot(sessionmaker: Any) -> dict[str, Any]:
    async with sessionmaker() as s:
        counts = {
            model.__name__: await s.scalar(select(func.count()).select_from(model))
            for model in (PurchaseOrder, PurchaseOrderLine, StockMove, DomainEvent)
        }
        balances = (await s.execute(select(StockBalance.item_id, StockBalance.on_hand)
                                    .order_by(StockBalance.item_id))).all()
        orders = (await s.execute(select(PurchaseOrder.id, PurchaseOrder.status)
                                  .order_by(PurchaseOrder.id))).all()
        lines = (await s.execute(select(PurchaseOrderLine.id, PurchaseOrderLine.received_quantity)
                                 .order_by(PurchaseOrderLine.id))).all()
    return {"counts": counts, "balances": balances, "orders": orders, "lines": lines}


@pytest.fixture
async def world(gql, sessionmaker) -> dict[str, str]:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    await create_warehouse(sessionmaker, "EAST")
    return {
        "bolt": await create_item(gql, "BOLT", leadTimeDays=30),
        "nut": await create_item(gql, "NUT", leadTimeDays=30),
    }


def due(days: int) -> str:
    return str(TODAY + timedelta(days=days))


async def test_create_purchase_order(gql, sessionmaker, world) -> None:
    payload = await create_po(gql, [
        {"itemId": world["bolt"], "quantity": "10", "unitCost": "1.2345", "dueDate": due(5)},
        {"itemId": world["nut"], "quantity": "2.5", "dueDate": due(9)},
    ], subcontract=True)
    assert payload["errors"] == []
    po = payload["purchaseOrder"]
    assert po["number"].startswith("PO-") and po["status"] == "OPEN"
    assert po["supplier"] == {"code": "ACME-PARTS", "name": "Acme Parts"} and po["subcontract"] is True
    assert [(ln["item"]["sku"], ln["quantity"], ln["receivedQuantity"], ln["unitCost"], ln["dueDate"])
            for ln in po["lines"]] == [
        ("BOLT", "10.00", "0.00", "1.2345", due(5)), ("NUT", "2.50", "0.00", None, due(9)),
    ]
    node = (await gql("query($id: ID!) { node(id: $id) { ... on PurchaseOrder { number } } }",
                      {"id": po["id"]}))["data"]["node"]
    assert node == {"number": po["number"]}
    assert await item_stock(gql, world["bolt"]) == ("0.00", "10.00")
    async with sessionmaker() as s:
        event = (await s.execute(select(DomainEvent).where(
            DomainEvent.type == "purchase_order.created", DomainEvent.entity_id == pk(po["id"])
        ))).scalar_one()
    assert event.payload["number"] == po["number"] and event.actor == "test-admin"


async def test_create_bad_input_changes_nothing(gql, sessionmaker, world) -> None:
    await create_supplier(gql, "ACME-PARTS", "Acme Parts")
    before = await snapshot(sessionmaker)
    line = {"itemId": world["bolt"], "quantity": "1", "dueDate": due(3)}
    cases: list[tuple[dict[str, Any], tuple[str, list[str]]]] = [
        ({"supplierId": "garbage"}, ("INVALID", ["supplierId"])),
        ({"supplierId": to_global_id("Supplier", 999)}, ("NOT_FOUND", ["supplierId"])),
        ({"supplierId": world["bolt"]}, ("NOT_FOUND", ["supplierId"])),
        ({"lines": []}, ("INVALID", ["lines"])),
        ({"lines": [line | {"quantity": "0"}]}, ("INVALID", ["lines", "0", "quantity"])),
        ({"lines": [line, line | {"quantity": "-1"}]}, ("INVALID", ["lines", "1", "quantity"])),
        ({"lines": [line | {"quantity": "1.0000001"}]}, ("INVALID", ["lines", "0", "quantity"])),
        ({"lines": [line | {"unitCost": "-0.01"}]}, ("INVALID", ["lines", "0", "unitCost"])),
        ({"lines": [line | {"unitCost": "0.00001"}]}, ("INVALID", ["lines", "0", "unitCost"])),
        ({"lines": [line | {"itemId": to_global_id("Item", 999)}]},
         ("NOT_FOUND", ["lines", "0", "itemId"])),
        ({"lines": [line, line | {"itemId": to_global_id("Customer", 1)}]},
         ("NOT_FOUND", ["lines", "1", "itemId"])),
        ({"lines": [line | {"itemId": "garbage"}]}, ("INVALID", ["lines", "0", "itemId"])),
    ]
    for override, (code, field) in cases:
        values = {"lines": [line]} | override
        payload = await create_po(gql, values.pop("lines"), **values)
        assert payload["purchaseOrder"] is None, override
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field), override
    assert await snapshot(sessionmaker) == before


async def test_receive_partial_then_the_rest(gql, sessionmaker, world) -> None:
    po = (await create_po(gql, [
        {"itemId": world["bolt"], "quantity": "10", "unitCost": "1.5", "dueDate": due(5)},
        {"itemId": world["nut"], "quantity": "4", "unitCost": "0.25", "dueDate": due(5)},
    ]))["purchaseOrder"]
    payload = await receive(gql, po["id"], [{"itemId": world["bolt"], "quantity": "6"}])
    assert payload["errors"] == []
    assert payload["purchaseOrder"]["status"] == "PARTIALLY_RECEIVED"
    assert [ln["receivedQuantity"] for ln in payload["purchaseOrder"]["lines"]] == ["6.00", "0.00"]
    assert await item_stock(gql, world["bolt"]) == ("6.00", "4.00")
    assert await item_stock(gql, world["nut"]) == ("0.00", "4.00")

    payload = await receive(gql, po["id"], [{"itemId": world["bolt"], "quantity": "4"},
                                            {"itemId": world["nut"], "quantity": "4"}])
    assert payload["errors"] == [] and payload["purchaseOrder"]["status"] == "RECEIVED"
    assert await item_stock(gql, world["bolt"]) == ("10.00", "0.00")
    assert await item_stock(gql, world["nut"]) == ("4.00", "0.00")

    await ledger_consistent(sessionmaker)
    async with sessionmaker() as s:
        moves = (await s.execute(
            select(StockMove.item_id, StockMove.kind, StockMove.quantity_on_hand, StockMove.unit_cost,
                   StockMove.reference_type, StockMove.warehouse_id).order_by(StockMove.id)
        )).all()
        default = await s.scalar(select(StockBalance.warehouse_id).distinct())
        events = (await s.execute(select(DomainEvent.payload).where(
            DomainEvent.type == "purchase_order.received").order_by(DomainEvent.id))).scalars().all()
    bolt, nut = pk(world["bolt"]), pk(world["nut"])
    assert [(m[0], m[1], str(m[2]), str(m[3]), m[4]) for m in moves] == [
        (bolt, "RECEIPT", "6.000000", "1.5000000000", "PurchaseOrderLine"),
        (bolt, "RECEIPT", "4.000000", "1.5000000000", "PurchaseOrderLine"),
        (nut, "RECEIPT", "4.000000", "0.2500000000", "PurchaseOrderLine"),
    ]
    assert {m[5] for m in moves} == {default}
    assert [e["status"] for e in events] == ["PARTIALLY_RECEIVED", "RECEIVED"]


async def test_receive_without_lines_takes_everything_open(gql, sessionmaker, world) -> None:
    po = (await create_po(gql, [
        {"itemId": world["bolt"], "quantity": "3", "dueDate": due(5)},
        {"itemId": world["bolt"], "quantity": "2", "dueDate": due(2)},
        {"itemId": world["nut"], "quantity": "7", "dueDate": due(5)},
    ]))["purchaseOrder"]
    # one receipt line fills the earliest due line first
    payload = await receive(gql, po["id"], [{"itemId": world["bolt"], "quantity": "3"}])
    assert [ln["receivedQuantity"] for ln in payload["purchaseOrder"]["lines"]] == ["1.00", "2.00", "0.00"]
    payload = await receive(gql, po["id"])
    assert payload["errors"] == [] and payload["purchaseOrder"]["status"] == "RECEIVED"
    assert [ln["receivedQuantity"] for ln in payload["purchaseOrder"]["lines"]] == ["3.00", "2.00", "7.00"]
    assert await item_stock(gql, world["bolt"]) == ("5.00", "0.00")
    assert await item_stock(gql, world["nut"]) == ("7.00", "0.00")
    await ledger_consistent(sessionmaker)
    async with sessionmaker() as s:
        assert await s.scalar(select(func.sum(StockMove.quantity_on_hand))) == 12


async def test_bad_receipts_change_nothing(gql, sessionmaker, world) -> None:
    po = (await create_po(gql, [{"itemId": world["bolt"], "quantity": "5", "dueDate": due(5)}]))[
        "purchaseOrder"]
    assert (await receive(gql, po["id"], [{"itemId": world["bolt"], "quantity": "2"}]))["errors"] == []
    other = await create_item(gql, "WASHER")
    before = await snapshot(sessionmaker)
    bolt = {"itemId": world["bolt"], "quantity": "1"}
    cases: list[tuple[str, list[dict[str, Any]] | None, tuple[str, list[str] | None]]] = [
        (po["id"], [bolt | {"quantity": "3.5"}], ("INVALID", ["lines", "0", "quantity"])),
        (po["id"], [bolt, bolt | {"quantity": "2.5"}], ("INVALID", ["lines", "1", "quantity"])),
        (po["id"], [bolt | {"quantity": "0"}], ("INVALID", ["lines", "0", "quantity"])),
        (po["id"], [bolt | {"quantity": "-1"}], ("INVALID", ["lines", "0", "quantity"])),
        (po["id"], [], ("INVALID", ["lines"])),
        (po["id"], [bolt, {"itemId": other, "quantity": "1"}], ("NOT_FOUND", ["lines", "1", "itemId"])),
        (po["id"], [bolt | {"itemId": "garbage"}], ("INVALID", ["lines", "0", "itemId"])),
        (to_global_id("PurchaseOrder", 999), None, ("NOT_FOUND", ["id"])),
        (world["bolt"], None, ("NOT_FOUND", ["id"])),
    ]
    for po_id, lines, (code, field) in cases:
        payload = await receive(gql, po_id, lines)
        assert payload["purchaseOrder"] is None, lines
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field), lines
    assert await snapshot(sessionmaker) == before


async def test_received_order_cannot_be_received_again(gql, sessionmaker, world) -> None:
    po = (await create_po(gql, [{"itemId": world["bolt"], "quantity": "5", "dueDate": due(5)}]))[
        "purchaseOrder"]
    assert (await receive(gql, po["id"]))["purchaseOrder"]["status"] == "RECEIVED"
    before = await snapshot(sessionmaker)
    for lines in (None, [{"itemId": world["bolt"], "quantity": "1"}]):
        payload = await receive(gql, po["id"], lines)
        assert payload["purchaseOrder"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_STATE", ["id"])]
    assert await snapshot(sessionmaker) == before


async def test_purchasing_needs_the_write_scope(gql, sessionmaker, make_token, world) -> None:
    line = {"itemId": world["bolt"], "quantity": "5", "dueDate": due(5)}
    po = (await create_po(gql, [line]))["purchaseOrder"]
    sales = await make_token("sales")
    before = await snapshot(sessionmaker)
    created = await create_po(gql, [line], token=sales)
    received = await receive(gql, po["id"], token=sales)
    for payload in (created, received):
        assert payload["purchaseOrder"] is None
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert await snapshot(sessionmaker) == before
    # the sales role cannot read purchase orders through node either
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": po["id"]}, token=sales)
    assert node["data"]["node"] is None
    for role in ("production", "planner"):
        token = await make_token(role)
        assert (await create_po(gql, [line], token=token))["errors"] == []


async def test_open_purchase_lines_are_receipts_for_promises(gql, sessionmaker, world) -> None:
    customer = await create_customer(gql, "ACME")
    await adjust(gql, world["bolt"], "2")
    atp = ("query($id: ID!, $q: Decimal!) { node(id: $id) { ... on Item {"
           " availableToPromise(quantity: $q) { date } } } }")

    async def promised_for(quantity: str) -> str:
        body = await gql(atp, {"id": world["bolt"], "q": quantity})
        return str(body["data"]["node"]["availableToPromise"]["date"])

    # without a purchase order, backorders wait for the lead time
    assert await promised_for("5") == due(30)
    po = (await create_po(gql, [{"itemId": world["bolt"], "quantity": "10", "dueDate": due(7)}]))[
        "purchaseOrder"]
    assert await promised_for("5") == due(7)
    assert await promised_for("12") == due(7)
    assert await promised_for("13") == due(30)

    first = (await confirm(gql, await draft(gql, customer, world["bolt"], "5")))["order"]
    assert first["status"] == "CONFIRMED"
    assert (first["lines"][0]["reservedQuantity"], first["lines"][0]["backorderedQuantity"]) == ("2.00", "3.00")
    assert first["promisedDate"] == first["lines"][0]["promisedDate"] == due(7)
    # the first order claims 3 of the 10 arriving: 7 are left for the next promise
    second = (await confirm(gql, await draft(gql, customer, world["bolt"], "7")))["order"]
    assert second["promisedDate"] == due(7)
    third = (await confirm(gql, await draft(gql, customer, world["bolt"], "1")))["order"]
    assert third["promisedDate"] == due(30)

    # a received order is no longer a scheduled receipt
    assert (await receive(gql, po["id"]))["purchaseOrder"]["status"] == "RECEIVED"
    assert await item_stock(gql, world["bolt"]) == ("12.00", "0.00")
    await ledger_consistent(sessionmaker)
