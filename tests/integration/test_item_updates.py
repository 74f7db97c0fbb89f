"""updateItem (createItem's rules, versions, costing:write for the standard cost), inactive items
on new documents and in MRP, and BOM versions."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.relay import to_global_id
from domain.shared.events import DomainEvent
from erpgraph.settings import Settings
from tests.integration.helpers import (
    CREATE_ITEM,
    SET_BOM,
    add_warehouse,
    create_item,
    create_supplier,
    snapshot_table,
)
from tests.integration.mrp_helpers import planned, run_and_wait
from tests.integration.sales_helpers import confirm, create_customer, create_order, pk
from tests.integration.test_firming import firm
from tests.integration.test_purchasing import create_po
from tests.integration.test_quotes import CREATE as CREATE_QUOTE


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Planned orders with their pegging: a list without a cheap real maximum (api.list_maxima),
    # counted with ERPGRAPH_MAX_LINES entries, over the default cost in full pages of 100.
    return settings.model_copy(update={"max_cost": 100_000_000})


FIELDS = """
  id sku name uom kind procurement leadTimeDays safetyStock scrapRate lotSizing fixedLotSize
  minOrderQuantity lotMultiple listPrice standardCost active version
"""
UPDATE = (
    "mutation($id: ID!, $input: ItemUpdateInput!) { updateItem(id: $id, input: $input) { item {"
    + FIELDS + "} errors { code field message } } }"
)
BOM_VERSION = "query($id: ID!) { node(id: $id) { ... on Item { version bom { version outputQuantity } } } }"
TODAY = date.today()


async def update(gql: Any, item_id: str, token: str | None = None, **values: Any) -> dict[str, Any]:
    return dict((await gql(UPDATE, {"id": item_id, "input": values}, token=token))["data"]["updateItem"])


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_only_the_fields_given_change(gql: Any, sessionmaker: Any) -> None:
    item = await create_item(gql, "PUMP", listPrice="10", leadTimeDays=3, lotSizing="MIN_MULTIPLE",
                             minOrderQuantity="10", lotMultiple="5", standardCost="4")
    changed = await update(
        gql, item, name=" Pump II ", listPrice="12.50", leadTimeDays=7, lotSizing="FIXED_ORDER_QUANTITY",
        fixedLotSize="25", minOrderQuantity=None, kind="FINISHED", procurement="MAKE", uom="box",
        safetyStock="3", scrapRate="0.02", standardCost="5.5", expectedVersion=1,
    )
    assert changed["errors"] == []
    assert {k: v for k, v in changed["item"].items() if k != "id"} == {
        "sku": "PUMP", "name": "Pump II", "uom": "box", "kind": "FINISHED", "procurement": "MAKE",
        "leadTimeDays": 7, "safetyStock": "3.00", "scrapRate": "0.02", "lotSizing": "FIXED_ORDER_QUANTITY",
        "fixedLotSize": "25.00", "minOrderQuantity": None, "lotMultiple": "5.00", "listPrice": "12.50",
        "standardCost": "5.50", "active": True, "version": 2,
    }
    # the way back, and an empty change leaves everything (and the version) as it is
    back = await update(gql, item, lotSizing="LOT_FOR_LOT", fixedLotSize=None, lotMultiple=None,
                        standardCost=None, expectedVersion=2)
    assert back["errors"] == [] and back["item"]["version"] == 3
    assert (back["item"]["lotSizing"], back["item"]["fixedLotSize"], back["item"]["lotMultiple"],
            back["item"]["standardCost"]) == ("LOT_FOR_LOT", None, None, None)
    assert (await update(gql, item))["item"] == back["item"]

    async with sessionmaker() as s:
        events = (await s.execute(
            select(DomainEvent.payload, DomainEvent.actor)
            .where(DomainEvent.type == "item.updated", DomainEvent.entity_id == pk(item)).order_by(DomainEvent.id)
        )).all()
    assert [tuple(e) for e in events] == [
        ({"fields": ["fixedLotSize", "kind", "leadTimeDays", "listPrice", "lotSizing", "minOrderQuantity",
                     "name", "procurement", "safetyStock", "scrapRate", "standardCost", "uom"]}, "test-admin"),
        ({"fields": ["fixedLotSize", "lotMultiple", "lotSizing", "standardCost"]}, "test-admin"),
        ({"fields": []}, "test-admin"),
    ]


async def test_refusals_change_nothing(gql: Any, sessionmaker: Any) -> None:
    item = await create_item(gql, "PUMP")
    warehouse = await add_warehouse(gql, "MAIN")
    before = await snapshot_table(sessionmaker, "items")
    cases: list[tuple[str, dict[str, Any], list[tuple[str, list[str] | None]]]] = [
        (item, {"lotSizing": "FIXED_ORDER_QUANTITY"}, [("INVALID", ["fixedLotSize"])]),  # the rule on the result
        (item, {"scrapRate": "1"}, [("INVALID", ["scrapRate"])]),
        (item, {"safetyStock": "-1", "leadTimeDays": 4000}, [("INVALID", ["leadTimeDays"]),
                                                              ("INVALID", ["safetyStock"])]),
        (item, {"listPrice": "1.12345"}, [("INVALID", ["listPrice"])]),
        (item, {"fixedLotSize": "0"}, [("INVALID", ["fixedLotSize"])]),
        (item, {"name": " "}, [("INVALID", ["name"])]),
        (item, {"uom": ""}, [("INVALID", ["uom"])]),
        (item, {"name": None, "kind": None, "active": None}, [
            ("INVALID", ["active"]), ("INVALID", ["kind"]), ("INVALID", ["name"])]),
        (item, {"name": "Late", "expectedVersion": 2}, [("CONFLICT", ["expectedVersion"])]),
        ("garbage!", {"name": "X"}, [("INVALID", ["id"])]),
        (warehouse, {"name": "X"}, [("NOT_FOUND", ["id"])]),
        (to_global_id("Item", 999_999), {"name": "X"}, [("NOT_FOUND", ["id"])]),
    ]
    for target, values, expected in cases:
        payload = await update(gql, target, **values)
        assert sorted(errors(payload)) == expected, (values, payload)
        assert payload["item"] is None
    assert await snapshot_table(sessionmaker, "items") == before


async def test_the_standard_cost_is_costing_s(gql: Any, sessionmaker: Any, make_token: Any) -> None:
    production, finance, sales = [await make_token(role) for role in ("production", "finance", "sales")]
    item = await create_item(gql, "PUMP", standardCost="4")
    before = await snapshot_table(sessionmaker, "items")
    created = (await gql(CREATE_ITEM, {"input": {"sku": "NEW", "name": "New", "kind": "RAW_MATERIAL",
                                                 "procurement": "BUY", "standardCost": "1"}}, token=production))
    assert errors(created["data"]["createItem"]) == [("FORBIDDEN", ["standardCost"])]
    assert errors(await update(gql, item, token=production, standardCost="9")) == [("FORBIDDEN", ["standardCost"])]
    assert errors(await update(gql, item, token=finance, name="By finance")) == [("FORBIDDEN", ["name"])]
    assert errors(await update(gql, item, token=sales, name="By sales")) == [("FORBIDDEN", None)]
    assert await snapshot_table(sessionmaker, "items") == before

    assert (await update(gql, item, token=production, listPrice="20"))["item"]["listPrice"] == "20.00"
    costed = await update(gql, item, token=finance, standardCost="9")
    assert costed["errors"] == [] and costed["item"]["version"] == 3
    assert (await update(gql, item))["item"]["standardCost"] == "9.00"
    plain = (await gql(CREATE_ITEM, {"input": {"sku": "NEW", "name": "New", "kind": "RAW_MATERIAL",
                                               "procurement": "BUY"}}, token=production))
    assert plain["data"]["createItem"]["errors"] == []


async def test_inactive_items_are_refused_on_new_documents_and_listed_apart(gql: Any, sessionmaker: Any) -> None:
    await add_warehouse(gql, "MAIN")
    customer = await create_customer(gql, "ACME", credit_limit="100000")
    item = await create_item(gql, "OLD", listPrice="5")
    other = await create_item(gql, "NEW", listPrice="5")
    assert (await update(gql, item, active=False, expectedVersion=1))["item"]["active"] is False

    listed = "query($active: Boolean) { items(first: 10, active: $active) { totalCount edges { node { sku } } } }"
    for active, skus in ((False, ["OLD"]), (True, ["NEW"]), (None, ["OLD", "NEW"])):
        page = (await gql(listed, {"active": active}))["data"]["items"]
        assert [e["node"]["sku"] for e in page["edges"]] == skus and page["totalCount"] == len(skus)

    supplier = await create_supplier(gql, "ACME-PARTS")
    before = await snapshot_table(sessionmaker, "quotes", "sales_orders", "purchase_orders")
    lines = [{"itemId": other, "quantity": "1"}, {"itemId": item, "quantity": "1"}]
    quote = (await gql(CREATE_QUOTE, {"input": {"customerId": customer, "lines": lines}}))["data"]["createQuote"]
    order = await create_order(gql, customer, lines)
    purchase = await create_po(gql, [line | {"dueDate": str(TODAY + timedelta(days=5))} for line in lines],
                               supplierId=supplier)
    for payload in (quote, order, purchase):
        assert errors(payload) == [("INVALID_STATE", ["lines", "1", "itemId"])], payload
        assert "OLD is inactive" in payload["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, "quotes", "sales_orders", "purchase_orders") == before

    assert (await update(gql, item, active=True))["item"]["version"] == 3
    assert (await create_order(gql, customer, lines))["errors"] == []


async def test_mrp_still_plans_an_inactive_item_for_demand_that_exists(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await add_warehouse(gql, "MAIN")
    customer = await create_customer(gql, "ACME", credit_limit="100000")
    supplier = await create_supplier(gql, "OLDCO")
    item = await create_item(gql, "OLD", listPrice="5", leadTimeDays=2, defaultSupplierId=supplier)
    created = await create_order(gql, customer, [{"itemId": item, "quantity": "4"}],
                                 requestedDate=str(TODAY + timedelta(days=10)))
    assert (await confirm(gql, str(created["order"]["id"])))["errors"] == []
    assert (await update(gql, item, active=False))["errors"] == []

    await run_and_wait(gql, settings, startDate=str(TODAY), horizonDays=30)
    orders = await planned(gql)
    assert [(o["item"]["sku"], o["kind"], o["quantity"]) for o in orders] == [("OLD", "PURCHASE", "4.00")]
    # the demand exists, so its purchase can be firmed; a new purchase order by hand cannot
    firmed = await firm(gql, [orders[0]["id"]])
    assert firmed["errors"] == [] and [po["lines"][0]["item"]["sku"] for po in firmed["purchaseOrders"]] == ["OLD"]
    by_hand = await create_po(gql, [{"itemId": item, "quantity": "1", "unitCost": "1", "dueDate": str(TODAY)}])
    assert [(e["code"], e["field"]) for e in by_hand["errors"]] == [("INVALID_STATE", ["lines", "0", "itemId"])]


async def test_twenty_parallel_item_updates_of_one_version_exactly_one_wins(gql: Any) -> None:
    item = await create_item(gql, "PUMP")
    results = await asyncio.gather(*(
        update(gql, item, name=f"Pump {i}", expectedVersion=1) for i in range(20)
    ))
    winners = [p for p in results if not p["errors"]]
    assert len(winners) == 1 and winners[0]["item"]["version"] == 2
    assert {e["code"] for p in results for e in p["errors"]} == {"CONFLICT"}
    assert (await update(gql, item))["item"]["name"] == winners[0]["item"]["name"]


async def set_bom(gql: Any, item: str, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return dict((await gql(SET_BOM, {"itemId": item, "input": {"lines": lines} | extra}))["data"]["setBom"])


async def test_every_set_bom_raises_the_bom_version_and_a_stale_one_is_refused(
    gql: Any, sessionmaker: Any
) -> None:
    parent = await create_item(gql, "KIT", kind="FINISHED", procurement="MAKE")
    part, other = await create_item(gql, "PART"), await create_item(gql, "OTHER")
    stale_before_any = await set_bom(gql, parent, [{"componentId": part, "quantity": "1"}], expectedVersion=1)
    assert errors(stale_before_any) == [("CONFLICT", ["expectedVersion"])]

    assert (await set_bom(gql, parent, [{"componentId": part, "quantity": "1"}]))["errors"] == []
    node = (await gql(BOM_VERSION, {"id": parent}))["data"]["node"]
    assert node == {"version": 1, "bom": {"version": 1, "outputQuantity": "1.00"}}
    # lines only, then the output quantity: each raises the BOM's version, never the item's
    assert (await set_bom(gql, parent, [{"componentId": other, "quantity": "2"}], expectedVersion=1))["errors"] == []
    assert (await set_bom(gql, parent, [{"componentId": other, "quantity": "2"}], outputQuantity="2",
                          expectedVersion=2))["errors"] == []
    node = (await gql(BOM_VERSION, {"id": parent}))["data"]["node"]
    assert node == {"version": 1, "bom": {"version": 3, "outputQuantity": "2.00"}}
    assert (await update(gql, parent, name="Kit II"))["item"]["version"] == 2
    assert (await gql(BOM_VERSION, {"id": parent}))["data"]["node"]["bom"]["version"] == 3

    before = await snapshot_table(sessionmaker, "boms", "bom_lines")
    stale = await set_bom(gql, parent, [{"componentId": part, "quantity": "5"}], expectedVersion=2)
    assert errors(stale) == [("CONFLICT", ["expectedVersion"])] and stale["item"] is None
    assert "version 3" in stale["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, "boms", "bom_lines") == before


async def test_twenty_parallel_set_boms_of_one_version_exactly_one_wins(gql: Any) -> None:
    parent = await create_item(gql, "KIT", kind="FINISHED", procurement="MAKE")
    part = await create_item(gql, "PART")
    assert (await set_bom(gql, parent, [{"componentId": part, "quantity": "1"}]))["errors"] == []
    results = await asyncio.gather(*(
        set_bom(gql, parent, [{"componentId": part, "quantity": str(i + 1)}], expectedVersion=1) for i in range(20)
    ))
    winners = [p for p in results if not p["errors"]]
    assert len(winners) == 1
    assert {e["code"] for p in results for e in p["errors"]} == {"CONFLICT"}
    node = (await gql(BOM_VERSION, {"id": parent}))["data"]["node"]
    assert node["bom"]["version"] == 2
    assert winners[0]["item"]["bom"]["lines"][0]["quantity"] == (
        await gql("query($id: ID!) { node(id: $id) { ... on Item { bom { lines { quantity } } } } }",
                  {"id": parent}))["data"]["node"]["bom"]["lines"][0]["quantity"]
