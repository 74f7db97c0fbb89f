"""Sales orders: create, confirm (credit, reservation, promise), release, cancel."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from api.relay import to_global_id
from domain.inventory import ledger
from domain.inventory.models import StockMove
from domain.shared.events import DomainEvent
from tests.integration.helpers import adjust, create_item, create_warehouse, set_bom
from tests.integration.sales_helpers import (
    CANCEL,
    CONFIRM,
    RELEASE,
    add_invoice,
    confirm,
    create_customer,
    create_order,
    draft,
    ledger_consistent,
    pk,
    snapshot,
)

TODAY = date.today()


@pytest.fixture
async def world(gql, sessionmaker) -> dict[str, str]:
    main = await create_warehouse(sessionmaker, "MAIN", default=True)
    other = await create_warehouse(sessionmaker, "EAST")
    item = await create_item(gql, "PUMP", listPrice="19.99", leadTimeDays=10)
    await adjust(gql, item, "3", main)
    await adjust(gql, item, "2", other)
    return {"customer": await create_customer(gql, "ACME"), "item": item, "main": main, "other": other}


async def test_create_order_prices_lines_and_records_draft_event(gql, sessionmaker, world) -> None:
    payload = await create_order(gql, world["customer"], [
        {"itemId": world["item"], "quantity": "3", "discountPercent": "10", "taxRate": "20"},
        {"itemId": world["item"], "quantity": "1", "unitPrice": "0.005"},
    ], requestedDate=str(TODAY + timedelta(days=5)))
    assert payload["errors"] == []
    order = payload["order"]
    assert order["number"].startswith("SO-") and order["status"] == "DRAFT"
    assert order["currency"] == "EUR" and order["requestedDate"] == str(TODAY + timedelta(days=5))
    assert order["promisedDate"] is None and order["customer"] == {"code": "ACME"}
    assert [(line["unitPrice"], line["lineTotal"]) for line in order["lines"]] == [
        ("19.99", "53.97"), ("0.005", "0.01"),
    ]
    assert (order["subtotal"], order["taxTotal"], order["total"]) == ("53.98", "10.79", "64.77")
    assert order["lines"][0]["backorderedQuantity"] == "0.00"
    async with sessionmaker() as s:
        event = (await s.execute(select(DomainEvent).where(
            DomainEvent.type == "order.status_changed", DomainEvent.entity_id == pk(order["id"])
        ))).scalar_one()
    assert event.payload["status"] == "DRAFT" and event.payload["previousStatus"] is None


async def test_create_order_bad_input_changes_nothing(gql, sessionmaker, world) -> None:
    before = await snapshot(sessionmaker)
    line = {"itemId": world["item"], "quantity": "1"}
    cases: list[tuple[dict[str, Any], tuple[str, list[str]]]] = [
        ({"lines": [line | {"quantity": "0"}]}, ("INVALID", ["lines", "0", "quantity"])),
        ({"lines": [line, line | {"quantity": "-2"}]}, ("INVALID", ["lines", "1", "quantity"])),
        ({"lines": [line | {"quantity": "1.0000001"}]}, ("INVALID", ["lines", "0", "quantity"])),
        ({"lines": [line | {"unitPrice": "-1"}]}, ("INVALID", ["lines", "0", "unitPrice"])),
        ({"lines": [line | {"discountPercent": "101"}]},
         ("INVALID", ["lines", "0", "discountPercent"])),
        ({"lines": [line | {"taxRate": "-1"}]}, ("INVALID", ["lines", "0", "taxRate"])),
        ({"lines": []}, ("INVALID", ["lines"])),
        ({"currency": "eur"}, ("INVALID", ["currency"])),
        ({"customerId": to_global_id("Customer", 999)}, ("NOT_FOUND", ["customerId"])),
        ({"customerId": "garbage"}, ("INVALID", ["customerId"])),
        ({"lines": [line | {"itemId": to_global_id("Item", 999)}]},
         ("NOT_FOUND", ["lines", "0", "itemId"])),
        ({"lines": [line | {"itemId": world["customer"]}]},
         ("NOT_FOUND", ["lines", "0", "itemId"])),
    ]
    for override, (code, field) in cases:
        values = {"customerId": world["customer"], "lines": [line]} | override
        payload = await create_order(gql, values.pop("customerId"), values.pop("lines"), **values)
        assert payload["order"] is None, override
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field), override
    assert await snapshot(sessionmaker) == before


async def test_the_orders_list_of_one_customer_refuses_a_bad_customer(gql, world) -> None:
    await draft(gql, world["customer"], world["item"], "1")
    query = "query($c: ID) { salesOrders(first: 5, customerId: $c) { totalCount } }"
    assert (await gql(query, {"c": world["customer"]}))["data"]["salesOrders"]["totalCount"] == 1
    for bad, code in ((to_global_id("Customer", 999), "NOT_FOUND"), (world["item"], "NOT_FOUND"),
                      ("garbage", "INVALID")):
        body = await gql(query, {"c": bad}, expect_errors=True)
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
            (code, ["customerId"])], bad


async def test_confirm_reserves_across_warehouses_and_promises(gql, sessionmaker, world) -> None:
    order_id = await draft(gql, world["customer"], world["item"], "4")
    payload = await confirm(gql, order_id)
    assert payload["errors"] == []
    order = payload["order"]
    assert order["status"] == "CONFIRMED" and order["promisedDate"] == str(TODAY)
    line = order["lines"][0]
    assert (line["reservedQuantity"], line["backorderedQuantity"]) == ("4.00", "0.00")
    item = (await gql("query($id: ID!) { node(id: $id) { ... on Item { reserved available "
                      "stock { warehouse { code } reserved } } } }", {"id": world["item"]}))["data"]["node"]
    assert item["reserved"] == "4.00" and item["available"] == "1.00"
    # default warehouse first
    assert {s["warehouse"]["code"]: s["reserved"] for s in item["stock"]} == {"MAIN": "3.00", "EAST": "1.00"}
    await ledger_consistent(sessionmaker)
    async with sessionmaker() as s:
        kinds = (await s.execute(select(StockMove.kind, StockMove.reference_type, StockMove.reference_id)
                                 .where(StockMove.kind == "RESERVE"))).all()
    assert {k[:2] for k in kinds} == {("RESERVE", "SalesOrderLine")}
    assert {k[2] for k in kinds} == {pk(line["id"])}


async def test_partial_reservation_backorders_and_promises_by_lead_time(gql, sessionmaker, world) -> None:
    order_id = await draft(gql, world["customer"], world["item"], "7.5")
    order = (await confirm(gql, order_id))["order"]
    line = order["lines"][0]
    assert (line["reservedQuantity"], line["backorderedQuantity"]) == ("5.00", "2.50")
    assert line["promisedDate"] == order["promisedDate"] == str(TODAY + timedelta(days=10))
    # ATP now: nothing left, lead time
    atp = (await gql("query($id: ID!) { node(id: $id) { ... on Item { availableToPromise(quantity: \"1\") "
                     "{ quantity availableNow date } } } }", {"id": world["item"]}))["data"]["node"]
    assert atp["availableToPromise"] == {"quantity": "1.00", "availableNow": "0.00",
                                         "date": str(TODAY + timedelta(days=10))}


async def test_order_promised_date_is_the_latest_line(gql, world) -> None:
    make = await create_item(gql, "KIT", kind="FINISHED", procurement="MAKE", leadTimeDays=2)
    part = await create_item(gql, "PART", leadTimeDays=5)
    await set_bom(gql, make, [(part, "1")])
    payload = await create_order(gql, world["customer"], [
        {"itemId": world["item"], "quantity": "1"}, {"itemId": make, "quantity": "1"},
    ])
    order = (await confirm(gql, payload["order"]["id"]))["order"]
    assert [line["promisedDate"] for line in order["lines"]] == [str(TODAY), str(TODAY + timedelta(days=7))]
    assert order["promisedDate"] == str(TODAY + timedelta(days=7))


async def test_available_to_promise_quantity_must_be_positive(gql, world) -> None:
    query = ("query($id: ID!, $q: Decimal!) { node(id: $id) { ... on Item { "
             "availableToPromise(quantity: $q) { date } } } }")
    ok = await gql(query, {"id": world["item"], "q": "5"})
    assert ok["data"]["node"]["availableToPromise"]["date"] == str(TODAY)
    for bad in ("0", "-1"):
        body = await gql(query, {"id": world["item"], "q": bad}, expect_errors=True)
        assert "greater than 0" in body["errors"][0]["message"]


async def test_confirm_unknown_or_non_draft_changes_nothing(gql, sessionmaker, world) -> None:
    order_id = await draft(gql, world["customer"], world["item"], "1")
    assert (await confirm(gql, order_id))["order"]["status"] == "CONFIRMED"
    before = await snapshot(sessionmaker)
    for bad, code in ((order_id, "INVALID_STATE"), (to_global_id("SalesOrder", 999), "NOT_FOUND"),
                      (world["item"], "NOT_FOUND"), ("nope", "INVALID")):
        payload = await confirm(gql, bad)
        assert payload["order"] is None
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, ["id"])
    assert await snapshot(sessionmaker) == before


async def test_credit_limit_exceeded_holds_without_reserving(gql, sessionmaker, world) -> None:
    customer = await create_customer(gql, "TIGHT", credit_limit="50.00")
    order_id = await draft(gql, customer, world["item"], "3")  # 59.97
    before = await snapshot(sessionmaker)
    order = (await confirm(gql, order_id))["order"]
    assert order["status"] == "CREDIT_HOLD" and order["promisedDate"] is None
    assert "credit limit 50.00 exceeded" in order["creditHoldReason"]
    assert order["lines"][0]["reservedQuantity"] == "0.00"
    after = await snapshot(sessionmaker)
    assert after["balances"] == before["balances"]
    assert after["counts"]["StockMove"] == before["counts"]["StockMove"]

    # releasing needs finance:write
    sales = await _token(sessionmaker, "sales")
    denied = (await gql(RELEASE, {"id": order_id, "note": "ok"}, token=sales))["data"]["releaseCreditHold"]
    assert denied["errors"][0]["code"] == "FORBIDDEN"
    finance = await _token(sessionmaker, "finance")
    released = (await gql(RELEASE, {"id": order_id, "note": "approved by CFO"}, token=finance))
    order = released["data"]["releaseCreditHold"]["order"]
    assert order["status"] == "CONFIRMED" and order["promisedDate"] == str(TODAY)
    assert order["lines"][0]["reservedQuantity"] == "3.00"
    assert order["creditHoldReason"] is None
    again = (await gql(RELEASE, {"id": order_id, "note": "x"}, token=finance))["data"]["releaseCreditHold"]
    assert again["errors"][0]["code"] == "INVALID_STATE"
    async with sessionmaker() as s:
        payloads = [e.payload for e in (await s.execute(
            select(DomainEvent).where(DomainEvent.type == "order.status_changed",
                                      DomainEvent.entity_id == pk(order_id)).order_by(DomainEvent.id)
        )).scalars()]
    assert [(p["previousStatus"], p["status"]) for p in payloads] == [
        (None, "DRAFT"), ("DRAFT", "CREDIT_HOLD"), ("CREDIT_HOLD", "CONFIRMED"),
    ]
    assert payloads[-1]["reason"] == "approved by CFO"
    await ledger_consistent(sessionmaker)


async def test_overdue_invoice_holds_even_without_limit(gql, sessionmaker, world) -> None:
    late = await create_customer(gql, "LATE")
    await add_invoice(sessionmaker, late, "100.00", days_overdue=31)
    order = (await confirm(gql, await draft(gql, late, world["item"], "1")))["order"]
    assert order["status"] == "CREDIT_HOLD" and "31 days overdue" in order["creditHoldReason"]
    # 30 days overdue is still within the default policy
    ok = await create_customer(gql, "OKAY")
    await add_invoice(sessionmaker, ok, "100.00", days_overdue=30)
    assert (await confirm(gql, await draft(gql, ok, world["item"], "1")))["order"]["status"] == "CONFIRMED"


async def test_release_only_from_credit_hold(gql, world) -> None:
    order_id = await draft(gql, world["customer"], world["item"], "1")
    payload = (await gql(RELEASE, {"id": order_id, "note": "x"}))["data"]["releaseCreditHold"]
    assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == ("INVALID_STATE", ["id"])


async def test_cancel_releases_reservations(gql, sessionmaker, world) -> None:
    before = await snapshot(sessionmaker)
    order_id = await draft(gql, world["customer"], world["item"], "4")
    await confirm(gql, order_id)
    payload = (await gql(CANCEL, {"id": order_id, "reason": "customer changed mind"}))["data"]["cancelSalesOrder"]
    assert payload["errors"] == []
    order = payload["order"]
    assert order["status"] == "CANCELLED" and order["lines"][0]["reservedQuantity"] == "0.00"
    after = await snapshot(sessionmaker)
    assert after["balances"] == before["balances"]
    async with sessionmaker() as s:
        unreserved = await s.scalar(select(func.sum(StockMove.quantity_reserved))
                                    .where(StockMove.kind == "UNRESERVE"))
    assert unreserved == Decimal("-4")
    await ledger_consistent(sessionmaker)
    again = (await gql(CANCEL, {"id": order_id, "reason": "x"}))["data"]["cancelSalesOrder"]
    assert again["errors"][0]["code"] == "INVALID_STATE"


async def test_cancel_draft_and_refuse_shipped(gql, sessionmaker, world) -> None:
    order_id = await draft(gql, world["customer"], world["item"], "1")
    assert (await gql(CANCEL, {"id": order_id, "reason": "dup"}))["data"]["cancelSalesOrder"]["order"][
        "status"] == "CANCELLED"
    shipped = await draft(gql, world["customer"], world["item"], "1")
    await confirm(gql, shipped)
    from domain.sales.models import SalesOrder
    async with sessionmaker.begin() as s:
        (await s.get(SalesOrder, pk(shipped))).status = "SHIPPED"  # type: ignore[union-attr]
    before = await snapshot(sessionmaker)
    payload = (await gql(CANCEL, {"id": shipped, "reason": "too late"}))["data"]["cancelSalesOrder"]
    assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == ("INVALID_STATE", ["id"])
    blank = (await gql(CANCEL, {"id": order_id, "reason": " "}))["data"]["cancelSalesOrder"]
    assert (blank["errors"][0]["code"], blank["errors"][0]["field"]) == ("INVALID", ["reason"])
    assert await snapshot(sessionmaker) == before


async def test_failure_mid_confirmation_leaves_no_partial_reservation(
    gql, sessionmaker, world, monkeypatch
) -> None:
    second = await create_item(gql, "VALVE", listPrice="5")
    await adjust(gql, second, "10", world["main"])
    payload = await create_order(gql, world["customer"], [
        {"itemId": world["item"], "quantity": "1"}, {"itemId": second, "quantity": "1"},
    ])
    order_id = payload["order"]["id"]
    before = await snapshot(sessionmaker)
    real_post = ledger.post
    calls = 0

    async def failing_post(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk on fire")
        return await real_post(*args, **kwargs)

    monkeypatch.setattr(ledger, "post", failing_post)
    body = await gql(CONFIRM, {"id": order_id}, expect_errors=True)
    assert calls == 2 and body["errors"]
    assert await snapshot(sessionmaker) == before
    monkeypatch.setattr(ledger, "post", real_post)
    assert (await confirm(gql, order_id))["order"]["status"] == "CONFIRMED"
    await ledger_consistent(sessionmaker)


async def test_sales_scope_required(gql, sessionmaker, world) -> None:
    token = await _token(sessionmaker, "production")
    body = await gql(
        "mutation($id: ID!) { confirmSalesOrder(id: $id) { order { id } errors { code } } }",
        {"id": await draft(gql, world["customer"], world["item"])}, token=token,
    )
    assert body["data"]["confirmSalesOrder"]["errors"] == [{"code": "FORBIDDEN"}]


async def _token(sessionmaker: Any, role: str) -> str:
    from domain.identity.services import create_token

    async with sessionmaker.begin() as session:
        return await create_token(session, f"{role}-user", role)
