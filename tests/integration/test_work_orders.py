"""Work orders: create, release (BOM → components), kitted issue, production reports, backflush."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from api.relay import to_global_id
from domain.inventory.models import StockBalance, StockMove
from domain.production.models import WorkOrder, WorkOrderComponent
from domain.shared.events import DomainEvent
from tests.integration.helpers import SET_BOM, adjust, create_item, create_warehouse
from tests.integration.sales_helpers import create_customer, draft, ledger_consistent, pk

TODAY = date.today()
ERRORS = "errors { code field message }"
WO_FIELDS = """
  id number quantity completedQuantity status startDate dueDate cost { totalCost }
  item { sku } salesOrder { number }
  components { item { sku } requiredQuantity issuedQuantity }
"""
CREATE = ("mutation($input: WorkOrderInput!) { createWorkOrder(input: $input) { workOrder {"
          + WO_FIELDS + "} " + ERRORS + " } }")
RELEASE = ("mutation($id: ID!) { releaseWorkOrder(id: $id) { workOrder {" + WO_FIELDS + "} "
           + ERRORS + " } }")
ISSUE = ("mutation($id: ID!) { issueWorkOrderMaterials(id: $id) { workOrder {" + WO_FIELDS + "} "
         + ERRORS + " } }")
REPORT = ("mutation($input: ProductionReportInput!) { reportProduction(input: $input) { workOrder {"
          + WO_FIELDS + "} " + ERRORS + " } }")
ITEM = "query($id: ID!) { node(id: $id) { ... on Item { onHand incoming } } }"


def due(days: int) -> str:
    return str(TODAY + timedelta(days=days))


async def create_wo(gql: Any, item_id: str, quantity: str = "10", token: str | None = None,
                    **extra: Any) -> dict[str, Any]:
    variables = {"input": {"itemId": item_id, "quantity": quantity, "dueDate": due(20)} | extra}
    return dict((await gql(CREATE, variables, token=token))["data"]["createWorkOrder"])


async def release(gql: Any, wo_id: str, token: str | None = None) -> dict[str, Any]:
    return dict((await gql(RELEASE, {"id": wo_id}, token=token))["data"]["releaseWorkOrder"])


async def issue(gql: Any, wo_id: str, token: str | None = None) -> dict[str, Any]:
    return dict((await gql(ISSUE, {"id": wo_id}, token=token))["data"]["issueWorkOrderMaterials"])


async def report(gql: Any, wo_id: str, quantity: str, token: str | None = None,
                 **extra: Any) -> dict[str, Any]:
    variables = {"input": {"workOrderId": wo_id, "quantity": quantity} | extra}
    return dict((await gql(REPORT, variables, token=token))["data"]["reportProduction"])


async def released(gql: Any, item_id: str, quantity: str = "10") -> dict[str, Any]:
    wo = (await create_wo(gql, item_id, quantity))["workOrder"]
    payload = await release(gql, wo["id"])
    assert payload["errors"] == [], payload
    return dict(payload["workOrder"])


def components(wo: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["item"]["sku"], c["requiredQuantity"], c["issuedQuantity"]) for c in wo["components"]]


async def on_hand(sessionmaker: Any) -> dict[tuple[int, int], Decimal]:
    async with sessionmaker() as s:
        rows = await s.execute(select(StockBalance.item_id, StockBalance.warehouse_id, StockBalance.on_hand))
        return {(r[0], r[1]): r[2] for r in rows}


async def snapshot(sessionmaker: Any) -> dict[str, Any]:
    async with sessionmaker() as s:
        counts = {
            model.__name__: await s.scalar(select(func.count()).select_from(model))
            for model in (WorkOrder, WorkOrderComponent, StockMove, DomainEvent)
        }
        orders = (await s.execute(select(WorkOrder.id, WorkOrder.status, WorkOrder.completed_quantity,
                                         WorkOrder.labor_hours).order_by(WorkOrder.id))).all()
        comps = (await s.execute(select(WorkOrderComponent.id, WorkOrderComponent.issued_quantity)
                                 .order_by(WorkOrderComponent.id))).all()
    return {"counts": counts, "balances": await on_hand(sessionmaker), "orders": orders,
            "components": comps}


@pytest.fixture
async def world(gql, sessionmaker) -> dict[str, str]:
    ids = {
        "main": await create_warehouse(sessionmaker, "MAIN", default=True),
        "east": await create_warehouse(sessionmaker, "EAST"),
        "chair": await create_item(gql, "CHAIR", kind="FINISHED", procurement="MAKE", leadTimeDays=5),
        "leg": await create_item(gql, "LEG"),
        "seat": await create_item(gql, "SEAT"),
        "stool": await create_item(gql, "STOOL", kind="FINISHED", procurement="MAKE"),
    }
    body = await gql(SET_BOM, {"itemId": ids["chair"], "input": {"lines": [
        {"componentId": ids["leg"], "quantity": "4", "scrapRate": "0.1"},
        {"componentId": ids["seat"], "quantity": "1"},
    ]}})
    assert body["data"]["setBom"]["errors"] == [], body
    return ids


async def test_create_work_order(gql, sessionmaker, world) -> None:
    customer = await create_customer(gql, "ACME")
    order = await draft(gql, customer, world["chair"], "3")
    payload = await create_wo(gql, world["chair"], "12.5", salesOrderId=order)
    assert payload["errors"] == []
    wo = payload["workOrder"]
    assert wo["number"].startswith("WO-") and wo["status"] == "PLANNED"
    assert (wo["quantity"], wo["completedQuantity"], wo["dueDate"], wo["startDate"]) == (
        "12.50", "0.00", due(20), due(15))
    assert wo["item"] == {"sku": "CHAIR"} and wo["salesOrder"]["number"].startswith("SO-")
    assert wo["components"] == [] and wo["cost"] is None
    node = (await gql("query($id: ID!) { node(id: $id) { ... on WorkOrder { number } } }",
                      {"id": wo["id"]}))["data"]["node"]
    assert node == {"number": wo["number"]}
    async with sessionmaker() as s:
        event = (await s.execute(select(DomainEvent).where(
            DomainEvent.type == "work_order.created", DomainEvent.entity_id == pk(wo["id"])
        ))).scalar_one()
    assert event.payload["number"] == wo["number"] and event.actor == "test-admin"


async def test_create_bad_input_changes_nothing(gql, sessionmaker, world) -> None:
    before = await snapshot(sessionmaker)
    cases: list[tuple[dict[str, Any], tuple[str, list[str]]]] = [
        ({"quantity": "0"}, ("INVALID", ["quantity"])),
        ({"quantity": "-2"}, ("INVALID", ["quantity"])),
        ({"quantity": "1.0000001"}, ("INVALID", ["quantity"])),
        ({"itemId": to_global_id("Item", 999)}, ("NOT_FOUND", ["itemId"])),
        ({"itemId": to_global_id("Customer", 1)}, ("NOT_FOUND", ["itemId"])),
        ({"itemId": "garbage"}, ("INVALID", ["itemId"])),
        ({"salesOrderId": to_global_id("SalesOrder", 999)}, ("NOT_FOUND", ["salesOrderId"])),
    ]
    for override, (code, field) in cases:
        values = {"itemId": world["chair"], "quantity": "1"} | override
        payload = await create_wo(gql, values.pop("itemId"), values.pop("quantity"), **values)
        assert payload["workOrder"] is None, override
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field), override
    assert await snapshot(sessionmaker) == before


async def test_release_scales_the_bom_with_scrap(gql, sessionmaker, world) -> None:
    wo = await released(gql, world["chair"], "10")
    assert wo["status"] == "RELEASED"
    assert components(wo) == [("LEG", "44.00", "0.00"), ("SEAT", "10.00", "0.00")]
    # output quantity 7: requirements round up to the quantity scale
    body = await gql(SET_BOM, {"itemId": world["stool"], "input": {"outputQuantity": "7", "lines": [
        {"componentId": world["leg"], "quantity": "1", "scrapRate": "0.1"}]}})
    assert body["data"]["setBom"]["errors"] == []
    stool = await released(gql, world["stool"], "3")
    assert components(stool) == [("LEG", "0.471429", "0.00")]
    again = await release(gql, wo["id"])
    assert again["workOrder"] is None
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("INVALID_STATE", ["id"])]


async def test_release_without_bom_is_invalid(gql, sessionmaker, world) -> None:
    wo = (await create_wo(gql, world["stool"]))["workOrder"]
    before = await snapshot(sessionmaker)
    for wo_id, expected in ((wo["id"], ("INVALID", ["id"])),
                            (to_global_id("WorkOrder", 999), ("NOT_FOUND", ["id"])),
                            (world["chair"], ("NOT_FOUND", ["id"]))):
        payload = await release(gql, wo_id)
        assert payload["workOrder"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [expected]
    assert await snapshot(sessionmaker) == before


async def test_kitted_issue_takes_every_component(gql, sessionmaker, world) -> None:
    wo = await released(gql, world["chair"], "10")
    await adjust(gql, world["leg"], "30")
    await adjust(gql, world["leg"], "20", world["east"])
    await adjust(gql, world["seat"], "12")
    payload = await issue(gql, wo["id"])
    assert payload["errors"] == []
    assert payload["workOrder"]["status"] == "IN_PROGRESS"
    assert components(payload["workOrder"]) == [("LEG", "44.00", "44.00"), ("SEAT", "10.00", "10.00")]
    leg, seat = pk(world["leg"]), pk(world["seat"])
    main, east = pk(world["main"]), pk(world["east"])
    stock = await on_hand(sessionmaker)
    # default warehouse first, then the rest
    assert (stock[(leg, main)], stock[(leg, east)], stock[(seat, main)]) == (0, 6, 2)
    await ledger_consistent(sessionmaker)
    async with sessionmaker() as s:
        moves = (await s.execute(select(StockMove.item_id, StockMove.quantity_on_hand, StockMove.reference_type)
                                 .where(StockMove.kind == "ISSUE").order_by(StockMove.id))).all()
    assert [(m[0], str(m[1]), m[2]) for m in moves] == [
        (leg, "-30.000000", "WorkOrderComponent"), (leg, "-14.000000", "WorkOrderComponent"),
        (seat, "-10.000000", "WorkOrderComponent"),
    ]
    # nothing left to issue
    again = await issue(gql, wo["id"])
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("INVALID_STATE", ["id"])]


async def test_kitted_issue_lists_every_shortage_and_changes_nothing(gql, sessionmaker, world) -> None:
    wo = await released(gql, world["chair"], "10")
    await adjust(gql, world["leg"], "43")
    before = await snapshot(sessionmaker)
    payload = await issue(gql, wo["id"])
    assert payload["workOrder"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("INSUFFICIENT_STOCK", ["id"]), ("INSUFFICIENT_STOCK", ["id"])]
    assert "LEG" in payload["errors"][0]["message"] and "SEAT" in payload["errors"][1]["message"]
    assert payload["errors"][0]["message"].startswith("LEG: 44 needed, 43 available"), payload["errors"][0]
    assert await snapshot(sessionmaker) == before
    # a planned order cannot be issued to
    planned = (await create_wo(gql, world["chair"]))["workOrder"]
    assert [e["code"] for e in (await issue(gql, planned["id"]))["errors"]] == ["INVALID_STATE"]


async def test_report_production_adds_finished_stock(gql, sessionmaker, world) -> None:
    wo = await released(gql, world["chair"], "10")
    payload = await report(gql, wo["id"], "4", laborHours="2.5")
    assert payload["errors"] == []
    assert (payload["workOrder"]["status"], payload["workOrder"]["completedQuantity"]) == ("IN_PROGRESS", "4.00")
    assert components(payload["workOrder"]) == [("LEG", "44.00", "0.00"), ("SEAT", "10.00", "0.00")]
    before = await snapshot(sessionmaker)
    too_much = await report(gql, wo["id"], "6.5")
    assert [(e["code"], e["field"]) for e in too_much["errors"]] == [("INVALID", ["quantity"])]
    for bad, field in (({"quantity": "0"}, "quantity"), ({"laborHours": "-1"}, "laborHours")):
        payload = await report(gql, wo["id"], **({"quantity": "1"} | bad))
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", [field])]
    assert await snapshot(sessionmaker) == before
    payload = await report(gql, wo["id"], "6", laborHours="1.25")
    assert (payload["workOrder"]["status"], payload["workOrder"]["completedQuantity"]) == ("COMPLETED", "10.00")
    chair = pk(world["chair"])
    assert (await on_hand(sessionmaker))[(chair, pk(world["main"]))] == 10
    await ledger_consistent(sessionmaker)
    async with sessionmaker() as s:
        hours = await s.scalar(select(WorkOrder.labor_hours).where(WorkOrder.id == pk(wo["id"])))
        kinds = (await s.execute(select(StockMove.kind, StockMove.reference_type, StockMove.reference_id)
                                 .where(StockMove.item_id == chair))).all()
    assert hours == Decimal("3.75")
    assert kinds == [("PRODUCTION", "WorkOrder", pk(wo["id"]))] * 2
    done = await report(gql, wo["id"], "1")
    assert [(e["code"], e["field"]) for e in done["errors"]] == [("INVALID_STATE", ["workOrderId"])]
    planned = (await create_wo(gql, world["chair"]))["workOrder"]
    assert [e["code"] for e in (await report(gql, planned["id"], "1"))["errors"]] == ["INVALID_STATE"]


async def test_backflush_issues_by_ratio_including_scrap(gql, sessionmaker, world) -> None:
    wo = await released(gql, world["chair"], "10")
    await adjust(gql, world["leg"], "13")
    await adjust(gql, world["seat"], "20")
    before = await snapshot(sessionmaker)
    short = await report(gql, wo["id"], "3.5", backflush=True)  # 15.4 legs needed
    assert [(e["code"], e["field"]) for e in short["errors"]] == [("INSUFFICIENT_STOCK", ["backflush"])]
    assert "LEG" in short["errors"][0]["message"]
    assert await snapshot(sessionmaker) == before

    payload = await report(gql, wo["id"], "2.5", backflush=True)  # 2.5 × 4 × 1.1 = 11 legs
    assert payload["errors"] == []
    assert components(payload["workOrder"]) == [("LEG", "44.00", "11.00"), ("SEAT", "10.00", "2.50")]
    await adjust(gql, world["leg"], "40")
    payload = await report(gql, wo["id"], "7.5", backflush=True)
    assert payload["workOrder"]["status"] == "COMPLETED"
    assert components(payload["workOrder"]) == [("LEG", "44.00", "44.00"), ("SEAT", "10.00", "10.00")]
    stock = await on_hand(sessionmaker)
    main = pk(world["main"])
    assert (stock[(pk(world["leg"]), main)], stock[(pk(world["seat"]), main)],
            stock[(pk(world["chair"]), main)]) == (9, 10, 10)
    await ledger_consistent(sessionmaker)


async def test_work_orders_query_and_scopes(gql, sessionmaker, make_token, world) -> None:
    planned = (await create_wo(gql, world["chair"]))["workOrder"]
    wo = await released(gql, world["chair"], "2")
    query = ("query($status: [WorkOrderStatus!], $after: String) { workOrders(first: 1, after: $after,"
             " status: $status) { totalCount pageInfo { hasNextPage endCursor } edges { node { number } } } }")
    page = (await gql(query, {}))["data"]["workOrders"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"] is True
    assert page["edges"][0]["node"]["number"] == planned["number"]
    rest = (await gql(query, {"after": page["pageInfo"]["endCursor"]}))["data"]["workOrders"]
    assert [e["node"]["number"] for e in rest["edges"]] == [wo["number"]]
    only = (await gql(query, {"status": ["RELEASED"]}))["data"]["workOrders"]
    assert only["totalCount"] == 1 and only["edges"][0]["node"]["number"] == wo["number"]

    sales = await make_token("sales")
    before = await snapshot(sessionmaker)
    for payload in (await create_wo(gql, world["chair"], token=sales),
                    await release(gql, planned["id"], token=sales),
                    await issue(gql, wo["id"], token=sales),
                    await report(gql, wo["id"], "1", token=sales)):
        assert payload["workOrder"] is None
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert await snapshot(sessionmaker) == before
    # the sales role reads work orders (production:read)
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": wo["id"]}, token=sales)
    assert node["data"]["node"] == {"id": wo["id"]}
    for role in ("production",):
        token = await make_token(role)
        assert (await create_wo(gql, world["chair"], token=token))["errors"] == []


async def test_open_work_orders_are_incoming_and_receipts_for_promises(gql, sessionmaker, world) -> None:
    atp = ("query($id: ID!, $q: Decimal!) { node(id: $id) { ... on Item {"
           " availableToPromise(quantity: $q) { date } } } }")

    async def promised_for(quantity: str) -> str:
        body = await gql(atp, {"id": world["chair"], "q": quantity})
        return str(body["data"]["node"]["availableToPromise"]["date"])

    async def incoming() -> str:
        return str((await gql(ITEM, {"id": world["chair"]}))["data"]["node"]["incoming"])

    # without a work order: the chair's lead time (5 days; components have none)
    assert await promised_for("3") == due(5)
    planned = (await create_wo(gql, world["chair"], "4"))["workOrder"]  # due in 20 days
    wo = await released(gql, world["chair"], "6")
    assert await incoming() == "10.00"
    assert await promised_for("10") == due(20)
    assert await promised_for("11") == due(5)
    assert (await report(gql, wo["id"], "2"))["errors"] == []
    assert await incoming() == "8.00"
    # two built are stock now, eight still arrive on the due date
    assert (await promised_for("2"), await promised_for("10")) == (due(0), due(20))
    assert (await report(gql, wo["id"], "4"))["workOrder"]["status"] == "COMPLETED"
    assert await incoming() == "4.00"
    assert planned["status"] == "PLANNED"
