"""Items, BOMs (with cycle detection at any depth) and the stock ledger."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from domain.inventory.models import BomLine, StockBalance, StockMove
from tests.integration.helpers import (
    CREATE_ITEM,
    adjust,
    create_item,
    create_warehouse,
    set_bom,
)

ITEM_FIELDS = """
  id sku name uom kind procurement leadTimeDays safetyStock scrapRate lotSizing
  fixedLotSize minOrderQuantity lotMultiple listPrice standardCost onHand reserved available incoming
  bom { outputQuantity } whereUsed { sku } stock { onHand }
"""


async def test_create_item_all_fields(gql) -> None:
    body = await gql(
        "mutation($input: ItemInput!) { createItem(input: $input) { item {" + ITEM_FIELDS + "} errors { code } } }",
        {"input": {
            "sku": "FG-1", "name": "Pump", "uom": "ea", "kind": "FINISHED", "procurement": "MAKE",
            "leadTimeDays": 5, "safetyStock": "2", "scrapRate": "0.05", "lotSizing": "MIN_MULTIPLE",
            "minOrderQuantity": "10", "lotMultiple": "5", "listPrice": "199.90", "standardCost": "120.1234",
        }},
    )
    item = body["data"]["createItem"]["item"]
    assert {k: v for k, v in item.items() if k != "id"} == {
        "sku": "FG-1", "name": "Pump", "uom": "ea", "kind": "FINISHED", "procurement": "MAKE",
        "leadTimeDays": 5, "safetyStock": "2.00", "scrapRate": "0.05", "lotSizing": "MIN_MULTIPLE",
        "fixedLotSize": None, "minOrderQuantity": "10.00", "lotMultiple": "5.00",
        "listPrice": "199.90", "standardCost": "120.1234", "onHand": "0.00", "reserved": "0.00",
        "available": "0.00", "incoming": "0.00", "bom": None, "whereUsed": [], "stock": [],
    }


async def test_item_bad_input(gql) -> None:
    await create_item(gql, "DUP")
    cases = [
        ({"sku": "DUP"}, ("DUPLICATE", ["sku"])),
        ({"sku": ""}, ("INVALID", ["sku"])),
        ({"scrapRate": "1"}, ("INVALID", ["scrapRate"])),
        ({"safetyStock": "-1"}, ("INVALID", ["safetyStock"])),
        ({"leadTimeDays": -3}, ("INVALID", ["leadTimeDays"])),
        ({"lotSizing": "FIXED_ORDER_QUANTITY"}, ("INVALID", ["fixedLotSize"])),
        ({"fixedLotSize": "0"}, ("INVALID", ["fixedLotSize"])),
        ({"listPrice": "1.12345"}, ("INVALID", ["listPrice"])),
    ]
    for override, (code, field) in cases:
        item = {"sku": "NEW", "name": "x", "kind": "RAW_MATERIAL", "procurement": "BUY"} | override
        payload = (await gql(CREATE_ITEM, {"input": item}))["data"]["createItem"]
        assert payload["item"] is None, override
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field), override
    total = await gql("{ items { totalCount } }")
    assert total["data"]["items"]["totalCount"] == 1


async def test_unknown_enum_is_a_graphql_error(gql) -> None:
    body = await gql(CREATE_ITEM, {"input": {"sku": "X", "name": "x", "kind": "GADGET", "procurement": "BUY"}},
                     expect_errors=True)
    assert body["data"] is None and "GADGET" in body["errors"][0]["message"]


async def test_set_bom_replaces_lines_and_where_used(gql) -> None:
    fg = await create_item(gql, "FG", kind="FINISHED", procurement="MAKE")
    a = await create_item(gql, "A")
    b = await create_item(gql, "B")
    first = await set_bom(gql, fg, [(a, "2"), (b, "0.5")], outputQuantity="2")
    assert first["errors"] == []
    assert first["item"]["bom"] == {"outputQuantity": "2.00", "lines": [
        {"component": {"sku": "A"}, "quantity": "2.00", "scrapRate": "0.00"},
        {"component": {"sku": "B"}, "quantity": "0.50", "scrapRate": "0.00"},
    ]}
    second = await set_bom(gql, fg, [(b, "3")])
    assert second["item"]["bom"]["lines"] == [{"component": {"sku": "B"}, "quantity": "3.00", "scrapRate": "0.00"}]
    used = await gql('{ a: item(sku: "A") { whereUsed { sku } } b: item(sku: "B") { whereUsed { sku } } }')
    assert used["data"] == {"a": {"whereUsed": []}, "b": {"whereUsed": [{"sku": "FG"}]}}


async def test_bom_cycles_are_refused_at_any_depth(gql, sessionmaker) -> None:
    top = await create_item(gql, "TOP", kind="FINISHED", procurement="MAKE")
    mid = await create_item(gql, "MID", kind="SEMI_FINISHED", procurement="MAKE")
    low = await create_item(gql, "LOW", kind="SEMI_FINISHED", procurement="MAKE")
    raw = await create_item(gql, "RAW")
    assert (await set_bom(gql, top, [(mid, "1")]))["errors"] == []
    assert (await set_bom(gql, mid, [(low, "1")]))["errors"] == []

    async def lines() -> int:
        async with sessionmaker() as s:
            return int(await s.scalar(select(func.count()).select_from(BomLine)))

    before = await lines()
    self_ref = await set_bom(gql, top, [(raw, "1"), (top, "1")])
    assert self_ref["errors"][0]["code"] == "INVALID"
    assert self_ref["errors"][0]["field"] == ["lines", "1", "componentId"]
    deep = await set_bom(gql, low, [(raw, "1"), (top, "2")])  # LOW -> TOP -> MID -> LOW
    assert [(e["code"], e["field"]) for e in deep["errors"]] == [("INVALID", ["lines", "1", "componentId"])]
    direct = await set_bom(gql, mid, [(top, "1")])  # MID -> TOP -> MID
    assert direct["errors"][0]["field"] == ["lines", "0", "componentId"]
    assert await lines() == before
    # a diamond is not a cycle
    assert (await set_bom(gql, top, [(mid, "1"), (low, "1")]))["errors"] == []


async def test_bom_bad_lines(gql) -> None:
    fg = await create_item(gql, "FG", kind="FINISHED", procurement="MAKE")
    a = await create_item(gql, "A")
    missing = "SXRlbTo5OTk5OQ=="  # Item:99999
    cases = [
        ([{"componentId": a, "quantity": "0"}], ("INVALID", ["lines", "0", "quantity"])),
        ([{"componentId": a, "quantity": "-2"}], ("INVALID", ["lines", "0", "quantity"])),
        ([{"componentId": a, "quantity": "1", "scrapRate": "1.5"}], ("INVALID", ["lines", "0", "scrapRate"])),
        ([{"componentId": a, "quantity": "1"}, {"componentId": a, "quantity": "2"}],
         ("INVALID", ["lines", "1", "componentId"])),
        ([{"componentId": missing, "quantity": "1"}], ("NOT_FOUND", ["lines", "0", "componentId"])),
        ([{"componentId": "nonsense", "quantity": "1"}], ("INVALID", ["lines", "0", "componentId"])),
    ]
    for lines, (code, field) in cases:
        body = await gql("""mutation($id: ID!, $input: BomInput!) { setBom(itemId: $id, input: $input) {
            item { id } errors { code field } } }""", {"id": fg, "input": {"lines": lines}})
        payload = body["data"]["setBom"]
        assert payload["item"] is None
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field)
    unknown_parent = await set_bom(gql, missing, [(a, "1")])
    assert unknown_parent["errors"][0] == {"code": "NOT_FOUND", "field": ["itemId"], "message": "item not found"}


async def test_adjust_stock_posts_ledger_and_balance(gql, sessionmaker) -> None:
    main = await create_warehouse(sessionmaker, "MAIN", default=True)
    east = await create_warehouse(sessionmaker, "EAST")
    item = await create_item(gql, "BOLT")
    up = await adjust(gql, item, "10.5")
    assert up == {"stock": {"onHand": "10.50", "reserved": "0.00", "available": "10.50",
                            "item": {"sku": "BOLT"}, "warehouse": {"code": "MAIN"}}, "errors": []}
    assert (await adjust(gql, item, "4", east))["stock"]["warehouse"]["code"] == "EAST"
    down = await adjust(gql, item, "-0.5", main)
    assert down["stock"]["onHand"] == "10.00"
    summary = await gql('{ item(sku: "BOLT") { onHand available stock { warehouse { code } onHand } } }')
    assert summary["data"]["item"] == {"onHand": "14.00", "available": "14.00", "stock": [
        {"warehouse": {"code": "MAIN"}, "onHand": "10.00"},
        {"warehouse": {"code": "EAST"}, "onHand": "4.00"},
    ]}
    async with sessionmaker() as s:
        moves = (await s.execute(select(StockMove.quantity_on_hand).order_by(StockMove.id))).scalars().all()
        balances = (await s.execute(select(func.sum(StockBalance.on_hand)))).scalar()
    assert moves == [Decimal("10.5"), Decimal("4"), Decimal("-0.5")]
    assert sum(moves) == balances  # the ledger and the balances agree


async def test_adjust_stock_bad_input_changes_nothing(gql, sessionmaker) -> None:
    main = await create_warehouse(sessionmaker, "MAIN", default=True)
    item = await create_item(gql, "NUT")
    await adjust(gql, item, "3", main)
    cases = [
        (dict(quantity="-4"), ("INSUFFICIENT_STOCK", ["quantity"])),
        (dict(quantity="0"), ("INVALID", ["quantity"])),
        (dict(quantity="1", reason=" "), ("INVALID", ["reason"])),
        (dict(quantity="1.1234567"), ("INVALID", ["quantity"])),
        (dict(quantity="1", item_id="SXRlbTo5OTk5OQ=="), ("NOT_FOUND", ["itemId"])),
        (dict(quantity="1", warehouse_id="V2FyZWhvdXNlOjk5OTk="), ("NOT_FOUND", ["warehouseId"])),
        (dict(quantity="1", warehouse_id=item), ("NOT_FOUND", ["warehouseId"])),
    ]
    for kwargs, (code, field) in cases:
        result = await adjust(gql, kwargs.pop("item_id", item), **kwargs)
        assert result["stock"] is None, kwargs
        assert (result["errors"][0]["code"], result["errors"][0]["field"]) == (code, field), kwargs
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(StockMove)) == 1
        assert await s.scalar(select(StockBalance.on_hand)) == Decimal("3")


async def test_concurrent_decreases_never_go_negative(gql, sessionmaker) -> None:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    item = await create_item(gql, "HOT")
    await adjust(gql, item, "10")
    results = await asyncio.gather(*(adjust(gql, item, "-1") for _ in range(25)))
    ok = [r for r in results if r["errors"] == []]
    refused = [r for r in results if r["errors"]]
    assert len(ok) == 10 and len(refused) == 15
    assert {r["errors"][0]["code"] for r in refused} == {"INSUFFICIENT_STOCK"}
    async with sessionmaker() as s:
        assert await s.scalar(select(StockBalance.on_hand)) == Decimal("0")
        assert await s.scalar(select(func.sum(StockMove.quantity_on_hand))) == Decimal("0")


async def test_database_guards_the_invariants(gql, sessionmaker) -> None:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    item = await create_item(gql, "G")
    await adjust(gql, item, "5")
    for statement in (
        "UPDATE stock_balances SET on_hand = -1",
        "UPDATE stock_balances SET reserved = on_hand + 1",
        "UPDATE stock_moves SET quantity_on_hand = 99",
        "DELETE FROM stock_moves",
    ):
        with pytest.raises(DBAPIError):
            async with sessionmaker.begin() as s:
                await s.execute(text(statement))
