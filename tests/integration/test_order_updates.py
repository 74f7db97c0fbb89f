"""updateSalesOrder: a DRAFT's lines re-priced, its dates and notes; every refusal; and an edit
racing a confirmation."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select, update

from api.relay import to_global_id
from domain.inventory.models import Item
from domain.shared.events import DomainEvent
from tests.integration.helpers import adjust, create_item, create_warehouse, snapshot_table
from tests.integration.sales_helpers import (
    CANCEL,
    ERRORS,
    ORDER_FIELDS,
    confirm,
    create_customer,
    create_order,
    ledger_consistent,
    pk,
)

UPDATE = (
    "mutation($id: ID!, $input: SalesOrderUpdateInput!) { updateSalesOrder(id: $id, input: $input) { order {"
    + ORDER_FIELDS + " notes version } " + ERRORS + " } }"
)
TABLES = ("sales_orders", "sales_order_lines", "stock_moves", "stock_balances")


async def edit(gql: Any, order_id: str, token: str | None = None, **changes: Any) -> dict[str, Any]:
    extra = {} if token is None else {"token": token}
    return dict((await gql(UPDATE, {"id": order_id, "input": changes}, **extra))["data"]["updateSalesOrder"])


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def world(gql: Any, sessionmaker: Any, credit_limit: str = "0") -> dict[str, str]:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    w = {
        "customer": await create_customer(gql, "ACME", credit_limit=credit_limit),
        "pump": await create_item(gql, "PUMP", listPrice="60.00"),
        "valve": await create_item(gql, "VALVE", listPrice="5.00"),
    }
    await adjust(gql, w["pump"], "10")
    await adjust(gql, w["valve"], "10")
    return w


async def new_draft(gql: Any, w: dict[str, str], quantity: str = "1", **extra: Any) -> dict[str, Any]:
    payload = await create_order(gql, w["customer"], [{"itemId": w["pump"], "quantity": quantity}], **extra)
    assert payload["errors"] == [], payload
    return dict(payload["order"])


async def test_update_re_prices_lines_and_changes_only_the_fields_given(gql, sessionmaker) -> None:
    w = await world(gql, sessionmaker)
    order = await new_draft(gql, w, requestedDate="2030-01-10", notes="dock 3")
    assert order["total"] == "60.00"
    lines = [{"itemId": w["valve"], "quantity": "3", "taxRate": "20"},
             {"itemId": w["pump"], "quantity": "2", "unitPrice": "55.00", "discountPercent": "10"}]
    payload = await edit(gql, order["id"], lines=lines, expectedVersion=1)
    assert payload["errors"] == []
    edited = payload["order"]
    assert [(line["item"]["sku"], line["quantity"], line["unitPrice"], line["lineTotal"])
            for line in edited["lines"]] == [
        ("VALVE", "3.00", "5.00", "15.00"), ("PUMP", "2.00", "55.00", "99.00")]
    assert (edited["subtotal"], edited["taxTotal"], edited["total"]) == ("114.00", "3.00", "117.00")
    assert (edited["requestedDate"], edited["status"], edited["version"]) == ("2030-01-10", "DRAFT", 2)

    cleared = (await edit(gql, order["id"], requestedDate=None, notes="gate B"))["order"]
    assert (cleared["requestedDate"], cleared["notes"], cleared["total"], cleared["version"]) == (
        None, "gate B", "117.00", 3)
    async with sessionmaker() as s:
        rows = (await s.execute(
            select(DomainEvent.type, DomainEvent.payload)
            .where(DomainEvent.entity_type == "SalesOrder", DomainEvent.type == "order.updated")
            .order_by(DomainEvent.id)
        )).all()
    assert [(r.payload["fields"], r.payload["total"]) for r in rows] == [
        (["lines"], "117.00"), (["notes", "requestedDate"], "117.00")]

    # a confirmation reserves the edited lines
    confirmed = await confirm(gql, order["id"])
    assert [(line["item"]["sku"], line["reservedQuantity"]) for line in confirmed["order"]["lines"]] == [
        ("VALVE", "3.00"), ("PUMP", "2.00")]
    await ledger_consistent(sessionmaker)


async def test_update_refusals_change_nothing(gql, sessionmaker, make_token) -> None:
    w = await world(gql, sessionmaker, credit_limit="100")
    order = await new_draft(gql, w)
    confirmed = await new_draft(gql, w)
    assert (await confirm(gql, confirmed["id"]))["order"]["status"] == "CONFIRMED"
    held = await new_draft(gql, w, quantity="2")
    assert (await confirm(gql, held["id"]))["order"]["status"] == "CREDIT_HOLD"
    cancelled = await new_draft(gql, w)
    await gql(CANCEL, {"id": cancelled["id"], "reason": "dup"})
    async with sessionmaker.begin() as s:
        await s.execute(update(Item).where(Item.id == pk(w["valve"])).values(active=False))
    await edit(gql, order["id"], notes="v2")  # now at version 2
    finance = await make_token("finance")

    before = await snapshot_table(sessionmaker, *TABLES)
    line = {"itemId": w["pump"], "quantity": "1"}
    cases: list[tuple[str, dict[str, Any], str, list[str] | None]] = [
        (order["id"], {"notes": "late", "expectedVersion": 1}, "CONFLICT", ["expectedVersion"]),
        (held["id"], {"notes": "x"}, "INVALID_STATE", ["id"]),
        (confirmed["id"], {"notes": "x"}, "INVALID_STATE", ["id"]),
        (cancelled["id"], {"notes": "x"}, "INVALID_STATE", ["id"]),
        (order["id"], {"lines": []}, "INVALID", ["lines"]),
        (order["id"], {"lines": None}, "INVALID", ["lines"]),
        (order["id"], {"lines": [line | {"quantity": "-1"}]}, "INVALID", ["lines", "0", "quantity"]),
        (order["id"], {"lines": [line | {"discountPercent": "101"}]}, "INVALID", ["lines", "0", "discountPercent"]),
        (order["id"], {"lines": [line | {"itemId": w["valve"]}]}, "INVALID_STATE", ["lines", "0", "itemId"]),
        (order["id"], {"lines": [line | {"itemId": w["customer"]}]}, "NOT_FOUND", ["lines", "0", "itemId"]),
        (to_global_id("SalesOrder", 999), {"notes": "x"}, "NOT_FOUND", ["id"]),
        (w["pump"], {"notes": "x"}, "NOT_FOUND", ["id"]),
        ("garbage", {"notes": "x"}, "INVALID", ["id"]),
    ]
    for order_id, changes, code, field in cases:
        payload = await edit(gql, order_id, **changes)
        assert payload["order"] is None, changes
        assert errors(payload) == [(code, field)], (changes, payload)
    forbidden = await edit(gql, order["id"], token=finance, notes="finance")
    assert errors(forbidden) == [("FORBIDDEN", None)]
    assert await snapshot_table(sessionmaker, *TABLES) == before

    message = (await edit(gql, held["id"], notes="x"))["errors"][0]["message"]
    assert "credit hold" in message and "releaseCreditHold" in message and "cancelSalesOrder" in message
    assert "CONFIRMED" in (await edit(gql, confirmed["id"], notes="x"))["errors"][0]["message"]


async def test_an_edit_racing_a_confirmation_is_seen_by_it_or_refused(gql, sessionmaker) -> None:
    # 1 pump (60) passes the limit of 100, 2 pumps (120) do not
    w = await world(gql, sessionmaker, credit_limit="100")
    outcomes = set()
    for _ in range(6):  # repeat: one lucky interleaving proves little
        order = await new_draft(gql, w)
        edited, confirmed = await asyncio.gather(
            edit(gql, order["id"], lines=[{"itemId": w["pump"], "quantity": "2"}]),
            confirm(gql, order["id"]),
        )
        assert confirmed["errors"] == []
        final = confirmed["order"]
        if edited["errors"]:
            # the confirmation came first: the edit found the order confirmed
            assert errors(edited) == [("INVALID_STATE", ["id"])]
            assert (final["status"], final["lines"][0]["quantity"], final["total"]) == ("CONFIRMED", "1.00", "60.00")
            outcomes.add("refused")
        else:
            # the edit came first: the confirmation decided on 2 pumps, over the limit
            assert edited["order"]["status"] == "DRAFT"
            assert (final["status"], final["lines"][0]["quantity"], final["total"]) == (
                "CREDIT_HOLD", "2.00", "120.00")
            outcomes.add("seen")
        cancelled = await gql(CANCEL, {"id": order["id"], "reason": "next round"})  # frees the credit limit
        assert cancelled["data"]["cancelSalesOrder"]["errors"] == []
    assert outcomes  # at least one round ran; which order won is the scheduler's choice
    await ledger_consistent(sessionmaker)
