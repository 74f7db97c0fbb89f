"""kittingAnalysis: order lines and work order components vs stock, counted once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from api.relay import to_global_id
from tests.integration.helpers import SET_BOM, adjust, create_item, create_warehouse
from tests.integration.sales_helpers import confirm, create_customer, create_order
from tests.integration.test_purchasing import create_po
from tests.integration.test_work_orders import create_wo, release

TODAY = date.today()
KIT = """
query($so: ID, $wo: ID) { kittingAnalysis(salesOrderId: $so, workOrderId: $wo) {
  complete buildableQuantity lines { item { sku } required available shortage coveredOn }
} }"""


def due(days: int) -> str:
    return str(TODAY + timedelta(days=days))


async def kit(gql: Any, token: str | None = None, errors: bool = False, **ids: str) -> dict[str, Any]:
    return dict(await gql(KIT, ids, token=token, expect_errors=errors))


def rows(analysis: dict[str, Any]) -> list[tuple[str, str, str, str, str | None]]:
    return [(ln["item"]["sku"], ln["required"], ln["available"], ln["shortage"], ln["coveredOn"])
            for ln in analysis["lines"]]


@pytest.fixture
async def world(gql, sessionmaker) -> dict[str, str]:
    ids = {
        "main": await create_warehouse(sessionmaker, "MAIN", default=True),
        "pump": await create_item(gql, "PUMP", leadTimeDays=30),
        "valve": await create_item(gql, "VALVE", leadTimeDays=30),
        "chair": await create_item(gql, "CHAIR", kind="FINISHED", procurement="MAKE"),
        "leg": await create_item(gql, "LEG"),
        "seat": await create_item(gql, "SEAT"),
        "customer": await create_customer(gql, "ACME"),
    }
    body = await gql(SET_BOM, {"itemId": ids["chair"], "input": {"lines": [
        {"componentId": ids["leg"], "quantity": "4", "scrapRate": "0.1"},
        {"componentId": ids["seat"], "quantity": "1"},
    ]}})
    assert body["data"]["setBom"]["errors"] == [], body
    return ids


async def test_sales_order_lines_share_stock_once(gql, sessionmaker, sql_counter, world) -> None:
    await adjust(gql, world["pump"], "5")
    payload = await create_order(gql, world["customer"], [
        {"itemId": world["pump"], "quantity": "3"}, {"itemId": world["valve"], "quantity": "1"},
        {"itemId": world["pump"], "quantity": "4"}])
    order = payload["order"]["id"]
    assert (await create_po(gql, [
        {"itemId": world["pump"], "quantity": "1", "dueDate": due(3)},
        {"itemId": world["pump"], "quantity": "5", "dueDate": due(10)},
        {"itemId": world["valve"], "quantity": "1", "dueDate": due(7)},
    ]))["errors"] == []
    expected = [("PUMP", "3.00", "3.00", "0.00", None), ("VALVE", "1.00", "0.00", "1.00", due(7)),
                ("PUMP", "4.00", "2.00", "2.00", due(10))]
    with sql_counter.measure() as counted:
        body = await kit(gql, so=order)
    analysis = body["data"]["kittingAnalysis"]
    assert rows(analysis) == expected
    assert (analysis["complete"], analysis["buildableQuantity"]) == (False, "1.00")
    assert counted.count <= 7  # token, order, lines, stock, two receipt reads, items

    # confirmed: the reservations are the lines' own, nothing is counted twice
    assert (await confirm(gql, order))["order"]["status"] == "CONFIRMED"
    analysis = (await kit(gql, so=order))["data"]["kittingAnalysis"]
    assert rows(analysis) == expected
    # another order's reservation is not available to this one
    other = await create_order(gql, world["customer"], [{"itemId": world["pump"], "quantity": "2"}])
    await adjust(gql, world["pump"], "2")
    assert (await confirm(gql, other["order"]["id"]))["errors"] == []
    assert rows((await kit(gql, so=order))["data"]["kittingAnalysis"]) == expected
    await adjust(gql, world["pump"], "2")
    await adjust(gql, world["valve"], "1")
    analysis = (await kit(gql, so=order))["data"]["kittingAnalysis"]
    assert (analysis["complete"], analysis["buildableQuantity"]) == (True, "3.00")
    assert [ln["shortage"] for ln in analysis["lines"]] == ["0.00"] * 3


async def test_work_order_components_and_buildable_units(gql, sessionmaker, world) -> None:
    await adjust(gql, world["leg"], "30")
    await adjust(gql, world["seat"], "12")
    assert (await create_po(gql, [{"itemId": world["leg"], "quantity": "20", "dueDate": due(4)}]))["errors"] == []
    wo = (await create_wo(gql, world["chair"], "10"))["workOrder"]
    expected = [("LEG", "44.00", "30.00", "14.00", due(4)), ("SEAT", "10.00", "10.00", "0.00", None)]
    analysis = (await kit(gql, wo=wo["id"]))["data"]["kittingAnalysis"]
    assert rows(analysis) == expected  # planned: from the BOM
    assert (analysis["complete"], analysis["buildableQuantity"]) == (False, "6.00")  # 30 / 4.4
    assert (await release(gql, wo["id"]))["errors"] == []
    analysis = (await kit(gql, wo=wo["id"]))["data"]["kittingAnalysis"]
    assert rows(analysis) == expected  # released: from its components
    assert analysis["buildableQuantity"] == "6.00"

    await adjust(gql, world["leg"], "14")
    analysis = (await kit(gql, wo=wo["id"]))["data"]["kittingAnalysis"]
    assert (analysis["complete"], analysis["buildableQuantity"]) == (True, "10.00")
    # issued material counts toward what can still be built
    body = await gql("mutation($id: ID!) { issueWorkOrderMaterials(id: $id) { errors { code } } }",
                     {"id": wo["id"]})
    assert body["data"]["issueWorkOrderMaterials"]["errors"] == []
    analysis = (await kit(gql, wo=wo["id"]))["data"]["kittingAnalysis"]
    assert [ln["required"] for ln in analysis["lines"]] == ["0.00", "0.00"]
    assert (analysis["complete"], analysis["buildableQuantity"]) == (True, "10.00")


async def test_ids_and_scopes(gql, make_token, world) -> None:
    order = (await create_order(gql, world["customer"], [{"itemId": world["pump"], "quantity": "1"}]))["order"]
    wo = (await create_wo(gql, world["chair"], "1"))["workOrder"]
    for ids, code in (({}, "INVALID"), ({"so": order["id"], "wo": wo["id"]}, "INVALID"),
                      ({"so": to_global_id("SalesOrder", 999)}, "NOT_FOUND"),
                      ({"wo": world["chair"]}, "NOT_FOUND"), ({"wo": "garbage"}, "INVALID")):
        body = await kit(gql, errors=True, **ids)
        assert body["data"] is None, ids
        assert body["errors"][0]["extensions"]["code"] == code, ids
    # every role reads sales or production (finance: sales:read only)
    for role in ("sales", "production", "finance"):
        body = await kit(gql, token=await make_token(role), so=order["id"])
        assert body["data"]["kittingAnalysis"]["complete"] is False, role
    body = await kit(gql, token=await make_token("finance"), wo=wo["id"])
    assert body["data"]["kittingAnalysis"]["buildableQuantity"] == "0.00"
