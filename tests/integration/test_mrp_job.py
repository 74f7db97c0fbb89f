"""runMrp end to end: the API queues a job, a real arq worker loads, plans and saves it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from api.relay import from_global_id
from domain.jobs.models import Job
from domain.planning.models import MrpRun, Pegging, PlannedOrder
from erpgraph.settings import Settings
from tests.integration.helpers import adjust, create_item, create_supplier, create_warehouse, set_bom
from tests.integration.mrp_helpers import (
    LATEST,
    RUN_MRP,
    pegging_orphans,
    planned,
    run_and_wait,
    run_mrp,
    wait_for_job,
    worker,
)
from tests.integration.sales_helpers import confirm, create_customer, create_order


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Planned orders with their pegging: a list without a cheap real maximum (api.list_maxima),
    # counted with ERPGRAPH_MAX_LINES entries, over the default cost in full pages of 100.
    return settings.model_copy(update={"max_cost": 100_000_000})


TODAY = date.today()


def day(n: int) -> str:
    return str(TODAY + timedelta(days=n))


async def bike_company(gql: Any, sessionmaker: Any) -> dict[str, str]:
    """bike (MAKE, 2 days) = 2 wheels (MAKE, 1 day; 5 in stock) + 1 frame (BUY, 5 days; 1 in stock);
    wheel = 1 rim (BUY, 3 days). A confirmed order for 4 bikes wanted in 10 days."""
    await create_warehouse(sessionmaker, "MAIN", default=True)
    ids = {
        "rim": await create_item(gql, "RIM", leadTimeDays=3),
        "frame": await create_item(gql, "FRAME", leadTimeDays=5),
        "wheel": await create_item(gql, "WHEEL", kind="SEMI_FINISHED", procurement="MAKE", leadTimeDays=1),
        "bike": await create_item(gql, "BIKE", kind="FINISHED", procurement="MAKE", leadTimeDays=2,
                                  listPrice="500"),
    }
    assert (await set_bom(gql, ids["wheel"], [(ids["rim"], "1")]))["errors"] == []
    assert (await set_bom(gql, ids["bike"], [(ids["wheel"], "2"), (ids["frame"], "1")]))["errors"] == []
    assert (await adjust(gql, ids["wheel"], "5"))["errors"] == []
    assert (await adjust(gql, ids["frame"], "1"))["errors"] == []
    customer = await create_customer(gql, "ACME", credit_limit="100000")
    created = await create_order(gql, customer, [{"itemId": ids["bike"], "quantity": "4"}], requestedDate=day(10))
    assert created["errors"] == [], created
    order = str(created["order"]["id"])
    confirmed = await confirm(gql, order)
    assert confirmed["errors"] == [], confirmed
    ids["order"] = order
    return ids


def summary(orders: list[dict[str, Any]]) -> list[tuple[str, str, Decimal, str, str]]:
    return sorted(
        (o["item"]["sku"], o["kind"], Decimal(o["quantity"]), o["releaseDate"], o["dueDate"]) for o in orders
    )


async def test_run_plans_every_level_with_pegging(gql: Any, sessionmaker: Any, settings: Settings) -> None:
    await bike_company(gql, sessionmaker)
    run = await run_and_wait(gql, settings, startDate=str(TODAY), horizonDays=60)
    assert run["startDate"] == str(TODAY) and run["horizonDays"] == 60

    orders = await planned(gql)
    assert summary(orders) == [
        ("BIKE", "PRODUCTION", Decimal(4), day(8), day(10)),
        ("FRAME", "PURCHASE", Decimal(3), day(3), day(8)),   # 4 needed at the bike's release, 1 in stock
        ("RIM", "PURCHASE", Decimal(3), day(4), day(7)),     # one per wheel made
        ("WHEEL", "PRODUCTION", Decimal(3), day(7), day(8)),  # 8 needed, 5 in stock
    ]
    by_sku = {o["item"]["sku"]: o for o in orders}
    assert all(o["status"] == "PLANNED" and o["firmedAs"] is None for o in orders)
    bike_pegs = by_sku["BIKE"]["pegging"]
    assert [(p["source"], Decimal(p["quantity"]), p["date"], p["salesOrder"]["number"] is not None)
            for p in bike_pegs] == [("SALES_ORDER", Decimal(4), day(10), True)]
    # dependent demand is pegged to the parent planned order, for the net quantity only
    wheel_pegs = by_sku["WHEEL"]["pegging"]
    assert [(p["source"], Decimal(p["quantity"]), p["parent"]["id"]) for p in wheel_pegs] == [
        ("DEPENDENT", Decimal(3), by_sku["BIKE"]["id"])
    ]
    assert [p["parent"]["id"] for p in by_sku["RIM"]["pegging"]] == [by_sku["WHEEL"]["id"]]
    assert [(Decimal(p["quantity"]), p["parent"]["id"]) for p in by_sku["FRAME"]["pegging"]] == [
        (Decimal(3), by_sku["BIKE"]["id"])
    ]

    latest = (await gql(LATEST))["data"]["latestMrpRun"]
    assert latest["id"] == run["id"]
    assert latest["itemsPlanned"] == 4 and latest["completedAt"] is not None
    assert latest["job"]["status"] == "SUCCEEDED" and latest["job"]["progress"] == 1.0
    assert latest["messages"] == []
    by_kind = await planned(gql, kind="PURCHASE")
    assert sorted(o["item"]["sku"] for o in by_kind) == ["FRAME", "RIM"]


async def test_late_messages_name_the_planned_order_by_its_number(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await bike_company(gql, sessionmaker)
    start = TODAY + timedelta(days=9)  # after the bike's release date (day 8)
    await run_and_wait(gql, settings, startDate=str(start), horizonDays=60)
    orders = {o["item"]["sku"]: o for o in await planned(gql)}
    assert {o["number"] for o in orders.values()} == {
        f"PL-{from_global_id(o['id'])[1]:06d}" for o in orders.values()  # type: ignore[index]
    }
    messages = (await gql(LATEST))["data"]["latestMrpRun"]["messages"]
    late = {m["item"]["sku"]: m["message"] for m in messages if m["code"] == "LATE"}
    bike = orders["BIKE"]
    assert late["BIKE"] == (
        f"planned order {bike['number']} of 4 should have been released on {bike['releaseDate']}, "
        f"before the start date {start}"
    )


async def test_a_new_run_replaces_the_unfirmed_plan(gql: Any, sessionmaker: Any, settings: Settings) -> None:
    await bike_company(gql, sessionmaker)
    first = await run_and_wait(gql, settings, horizonDays=60)
    before = await planned(gql)
    second = await run_and_wait(gql, settings, horizonDays=60)
    after = await planned(gql)
    assert summary(after) == summary(before)
    assert {o["id"] for o in after}.isdisjoint({o["id"] for o in before})
    async with sessionmaker() as session:
        per_run = dict(
            (await session.execute(
                select(MrpRun.id, func.count(PlannedOrder.id))
                .outerjoin(PlannedOrder, PlannedOrder.run_id == MrpRun.id).group_by(MrpRun.id)
            )).all()
        )
        # the old run's pegging went with its planned orders
        pegs = await session.scalar(select(func.count()).select_from(Pegging))
    assert sorted(per_run.values()) == [0, 4]
    assert pegs == 4 and await pegging_orphans(sessionmaker) == 0
    old = await gql("query($id: ID!) { mrpRun(id: $id) { plannedOrders { totalCount } } }", {"id": first["id"]})
    assert old["data"]["mrpRun"]["plannedOrders"]["totalCount"] == 0
    assert second["id"] != first["id"]


async def test_one_run_at_a_time(gql: Any, sessionmaker: Any, settings: Settings) -> None:
    await bike_company(gql, sessionmaker)
    first = await run_mrp(gql)
    again = await run_mrp(gql, horizonDays=180)  # queued, not yet running: the same run comes back
    assert again["id"] == first["id"] and again["horizonDays"] == first["horizonDays"] == 180
    assert (await run_mrp(gql))["id"] == first["id"]  # no parameters: nothing dropped, no error
    # other parameters: the run under way comes back, with an error saying they were not used
    body = await gql(RUN_MRP, {"input": {"horizonDays": 30, "forecastMinProbability": 50}})
    payload = body["data"]["runMrp"]
    assert payload["run"]["id"] == first["id"] and payload["run"]["horizonDays"] == 180
    [error] = payload["errors"]
    assert error["code"] == "CONFLICT" and error["field"] == ["input"]
    assert first["id"] in error["message"] and "queued" in error["message"]
    assert "parameters were kept (startDate" in error["message"]
    assert "horizonDays 180, forecastMinProbability none)" in error["message"]  # as a user reads it
    assert "horizonDays, forecastMinProbability" in error["message"]
    async with worker(settings):
        job = await wait_for_job(gql, first["job"]["id"])
    assert job["status"] == "SUCCEEDED"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 1
    third = await run_mrp(gql)  # the first finished: a new run starts
    assert third["id"] != first["id"] and third["job"]["status"] == "QUEUED"


async def test_bad_input_is_refused_and_queues_nothing(gql: Any, sessionmaker: Any) -> None:
    body = await gql(RUN_MRP, {"input": {"horizonDays": 0, "forecastMinProbability": 101}})
    payload = body["data"]["runMrp"]
    assert payload["run"] is None
    assert sorted((e["code"], tuple(e["field"])) for e in payload["errors"]) == [
        ("INVALID", ("forecastMinProbability",)), ("INVALID", ("horizonDays",)),
    ]
    body = await gql(RUN_MRP, {"input": {"startDate": "1900-01-01"}})
    assert [e["field"] for e in body["data"]["runMrp"]["errors"]] == [["startDate"]]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 0
        assert await session.scalar(select(func.count()).select_from(MrpRun)) == 0


async def test_planning_needs_its_scopes(gql: Any, make_token: Any) -> None:
    sales = await make_token("sales")
    body = await gql(RUN_MRP, {"input": None}, token=sales)
    assert [e["code"] for e in body["data"]["runMrp"]["errors"]] == ["FORBIDDEN"]
    body = await gql("{ plannedOrders { totalCount } }", token=sales, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    planner = await make_token("planner")
    run = await run_mrp(gql)
    seen = await gql("query($id: ID!) { job(id: $id) { status } }", {"id": run["job"]["id"]}, token=planner)
    assert seen["data"]["job"]["status"] == "QUEUED"
    hidden = await gql("query($id: ID!) { job(id: $id) { status } }", {"id": run["job"]["id"]}, token=sales)
    assert hidden["data"]["job"] is None


async def test_forecast_open_documents_and_work_order_components_are_planned(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    ids = await bike_company(gql, sessionmaker)
    customer = (await gql("{ customers(first: 1) { edges { node { id } } } }"))["data"]["customers"]["edges"]
    opportunity = await gql(
        "mutation($input: OpportunityInput!) { createOpportunity(input: $input) { errors { code field } } }",
        {"input": {"customerId": customer[0]["node"]["id"], "name": "Fleet deal", "probability": 60,
                   "expectedCloseDate": day(20), "lines": [{"itemId": ids["bike"], "quantity": "3"}]}},
    )
    assert opportunity["data"]["createOpportunity"]["errors"] == []
    purchase = await gql(
        "mutation($input: PurchaseOrderInput!) { createPurchaseOrder(input: $input) { errors { code } } }",
        {"input": {"supplierId": await create_supplier(gql, "FRAMES", "Frames Inc"),
                   "lines": [{"itemId": ids["frame"], "quantity": "2", "dueDate": day(5)}]}},
    )
    assert purchase["data"]["createPurchaseOrder"]["errors"] == []
    work = await gql(  # not released: its components come from the wheel's BOM
        "mutation($input: WorkOrderInput!) { createWorkOrder(input: $input) { workOrder { number } errors { code } } }",
        {"input": {"itemId": ids["wheel"], "quantity": "2", "dueDate": day(6)}},
    )
    assert work["data"]["createWorkOrder"]["errors"] == []
    work_order = work["data"]["createWorkOrder"]["workOrder"]["number"]

    await run_and_wait(gql, settings, horizonDays=60, forecastMinProbability=50)
    orders = await planned(gql)
    assert summary(orders) == [
        ("BIKE", "PRODUCTION", Decimal(3), day(18), day(20)),   # the opportunity
        ("BIKE", "PRODUCTION", Decimal(4), day(8), day(10)),    # the order
        ("FRAME", "PURCHASE", Decimal(1), day(3), day(8)),      # 4 needed, 1 on hand, 2 on order
        ("FRAME", "PURCHASE", Decimal(3), day(13), day(18)),
        ("RIM", "PURCHASE", Decimal(1), day(4), day(7)),
        ("RIM", "PURCHASE", Decimal(2), day(2), day(5)),        # the work order's rims
        ("RIM", "PURCHASE", Decimal(6), day(14), day(17)),
        ("WHEEL", "PRODUCTION", Decimal(1), day(7), day(8)),    # 8 needed, 5 on hand, 2 being made
        ("WHEEL", "PRODUCTION", Decimal(6), day(17), day(18)),
    ]
    pegs = {(o["item"]["sku"], o["dueDate"]): o["pegging"] for o in orders}
    assert [(p["source"], p["opportunity"]["name"]) for p in pegs["BIKE", day(20)]] == [("FORECAST", "Fleet deal")]
    assert [(p["source"], p["workOrder"]["number"], p["parent"]) for p in pegs["RIM", day(5)]] == [
        ("DEPENDENT", work_order, None)
    ]

    await run_and_wait(gql, settings, horizonDays=60, forecastMinProbability=70)  # the deal is below it
    bikes = await planned(gql, itemId=ids["bike"])
    assert [(Decimal(o["quantity"]), [p["source"] for p in o["pegging"]]) for o in bikes] == [
        (Decimal(4), ["SALES_ORDER"])
    ]
