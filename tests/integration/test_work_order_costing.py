"""Actual work-order costing (runCosting): material from the ledger, overhead shared by
quantity or hours to the cent, revaluation of stock on hand, variance for the rest."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from domain.costing.models import CostingRun, WorkOrderCost
from domain.inventory.models import StockMove
from domain.jobs.models import Job
from tests.integration.costing_helpers import (
    cost_and_wait,
    costs,
    revaluations,
    run_costing_mutation,
    run_job,
    stock_value,
)
from tests.integration.helpers import adjust, create_item, create_warehouse, set_bom, snapshot_table
from tests.integration.sales_helpers import ledger_consistent, pk
from tests.integration.test_work_orders import issue, released, report

TODAY = date.today()
D = Decimal


def period(**extra: Any) -> dict[str, Any]:
    return {"periodStart": str(TODAY - timedelta(days=1)), "periodEnd": str(TODAY),
            "overheadAmount": "100.05", "allocationBasis": "OUTPUT_QUANTITY"} | extra


async def workshop(gql: Any, sessionmaker: Any) -> dict[str, str]:
    """RAW: 10 in at 1.00 and 10 at 2.00 (average 1.50). A = 2 RAW (a standard cost of 5.00,
    not used: its production comes in at what its materials cost the work order, 2 × 1.50 =
    3.00); B = 1 RAW (comes in at 1.50).
    WO-A: 3 A, 6 RAW issued (9.00), 7 labour hours. WO-B: 7 B, 7 RAW issued (10.50), 3 hours.
    Then one A leaves (an adjustment, at the average 3.00): 2 of WO-A's 3 are still on hand."""
    await create_warehouse(sessionmaker, "MAIN", default=True)
    ids = {
        "raw": await create_item(gql, "RAW"),
        "a": await create_item(gql, "A", kind="FINISHED", procurement="MAKE", standardCost="5"),
        "b": await create_item(gql, "B", kind="FINISHED", procurement="MAKE"),
    }
    assert (await set_bom(gql, ids["a"], [(ids["raw"], "2")]))["errors"] == []
    assert (await set_bom(gql, ids["b"], [(ids["raw"], "1")]))["errors"] == []
    for cost in ("1.00", "2.00"):
        body = await gql(
            "mutation($input: StockAdjustmentInput!) { adjustStock(input: $input) { errors { message } } }",
            {"input": {"itemId": ids["raw"], "quantity": "10", "reason": "count", "unitCost": cost}},
        )
        assert body["data"]["adjustStock"]["errors"] == [], body
    for sku, quantity, hours in (("a", "3", "7"), ("b", "7", "3")):
        wo = await released(gql, ids[sku], quantity)
        assert (await issue(gql, wo["id"]))["errors"] == []
        done = await report(gql, wo["id"], quantity, laborHours=hours)
        assert done["errors"] == [] and done["workOrder"]["status"] == "COMPLETED", done
        ids[f"wo_{sku}"] = wo["id"]
    assert (await adjust(gql, ids["a"], "-1"))["errors"] == []
    return ids


async def test_two_work_orders_by_quantity_with_a_residue_cent_revaluation_and_variance(
    gql: Any, sessionmaker: Any, redis: Any
) -> None:
    """Pool 100.05 by completed quantity 3 : 7 → exact 30.015 and 70.035, rounded (half to
    even) 30.02 + 70.04 = 100.06; the residue −0.01 goes to the largest share: 30.02 + 70.03.

    WO-A: material 6 × 1.50 = 9.00, total 39.02, unit 39.02 / 3 = 13.0066666667. Its 3 units
    came in at 3.00 (9.00): D = 39.02 − 9.00 = 30.02; 2 of 3 still on hand → 30.02 × 2/3 =
    20.0133333333 revalues A, the rest 10.0066666667 is variance (the unit that left).
    WO-B: material 7 × 1.50 = 10.50, total 80.53, unit 80.53 / 7 = 11.5042857143; came in at
    1.50 (10.50), all 7 on hand → 70.03 revalues B, no variance."""
    ids = await workshop(gql, sessionmaker)
    job = await cost_and_wait(gql, sessionmaker, redis, **period())
    assert job["status"] == "SUCCEEDED" and job["kind"] == "COSTING", job

    found = await costs(gql)
    a, b = found["A"], found["B"]
    assert a is not None and b is not None
    assert (D(a["materialCost"]), D(a["overheadCost"]), D(a["totalCost"]), D(a["unitCost"])) == (
        D("9.00"), D("30.02"), D("39.02"), D("13.0066666667"))
    assert (D(b["materialCost"]), D(b["overheadCost"]), D(b["totalCost"]), D(b["unitCost"])) == (
        D("10.50"), D("70.03"), D("80.53"), D("11.5042857143"))
    assert (D(a["revaluedAmount"]), D(a["variance"])) == (D("20.0133333333"), D("10.0066666667"))
    assert (D(b["revaluedAmount"]), D(b["variance"])) == (D("70.03"), D(0))
    assert (a["allocationBasis"], a["periodStart"], a["periodEnd"]) == (
        "OUTPUT_QUANTITY", str(TODAY - timedelta(days=1)), str(TODAY))
    assert await revaluations(sessionmaker) == [
        (pk(ids["a"]), pk(ids["wo_a"]), D("20.0133333333")),
        (pk(ids["b"]), pk(ids["wo_b"]), D("70.03")),
    ]
    # A: 2 left at 3.00 (6.00) + 20.0133333333; B: 10.50 + 70.03
    assert await stock_value(sessionmaker, pk(ids["a"])) == D("26.0133333333")
    assert await stock_value(sessionmaker, pk(ids["b"])) == D("80.53")
    await ledger_consistent(sessionmaker)

    # the same period again: the same numbers, nothing new posted (D = 0 for both)
    again = await cost_and_wait(gql, sessionmaker, redis, **period())
    assert again["status"] == "SUCCEEDED", again
    assert {sku: {k: v for k, v in c.items() if k != "computedAt"} for sku, c in (await costs(gql)).items() if c} \
        == {sku: {k: v for k, v in c.items() if k != "computedAt"} for sku, c in found.items() if c}
    assert len(await revaluations(sessionmaker)) == 2
    await ledger_consistent(sessionmaker)


async def test_by_labour_hours_and_a_rerun_that_changes_the_cost(gql: Any, sessionmaker: Any, redis: Any) -> None:
    """By hours 7 : 3 the same pool gives WO-A 70.03 (the largest share takes the residue)
    and WO-B 30.02.

    After a first run by quantity (WO-A 39.02, WO-B 80.53), a run by hours changes the
    totals to WO-A 9.00 + 70.03 = 79.03 and WO-B 10.50 + 30.02 = 40.52. WO-A: D = 79.03 −
    (9.00 + 20.0133333333 + 10.0066666667) = 40.01, 2/3 on hand → 26.6733333333 revalued
    (46.6866666666 in all), 13.3366666667 more variance (23.3433333334 in all). WO-B: D =
    40.52 − (10.50 + 70.03) = −40.01, all on hand → −40.01 revalued (30.02 in all)."""
    ids = await workshop(gql, sessionmaker)
    assert (await cost_and_wait(gql, sessionmaker, redis, **period()))["status"] == "SUCCEEDED"
    job = await cost_and_wait(gql, sessionmaker, redis, **period(allocationBasis="LABOR_HOURS"))
    assert job["status"] == "SUCCEEDED", job
    found = await costs(gql)
    a, b = found["A"], found["B"]
    assert a is not None and b is not None
    assert (D(a["overheadCost"]), D(a["totalCost"]), D(a["revaluedAmount"]), D(a["variance"])) == (
        D("70.03"), D("79.03"), D("20.0133333333") + D("26.6733333333"), D("23.3433333334"))
    assert (D(b["overheadCost"]), D(b["totalCost"]), D(b["revaluedAmount"]), D(b["variance"])) == (
        D("30.02"), D("40.52"), D("30.02"), D(0))
    assert a["allocationBasis"] == "LABOR_HOURS"
    assert [row[2] for row in await revaluations(sessionmaker)] == [
        D("20.0133333333"), D("70.03"), D("26.6733333333"), D("-40.01")]
    assert await stock_value(sessionmaker, pk(ids["b"])) == D("40.52")
    # what each work order's output has been charged in all now equals its actual cost
    async with sessionmaker() as s:
        for row in (await s.execute(select(WorkOrderCost))).scalars():
            produced = await s.scalar(select(func.sum(StockMove.value)).where(
                StockMove.kind == "PRODUCTION", StockMove.reference_type == "WorkOrder",
                StockMove.reference_id == row.work_order_id,
            ))
            assert produced + row.revalued_amount + row.variance == row.total_cost
    await ledger_consistent(sessionmaker)


async def test_a_retried_job_gives_the_same_state(gql: Any, sessionmaker: Any, redis: Any) -> None:
    """arq re-runs a job whose worker vanished after the results were committed but before
    the job row was finished: the re-run claims the RUNNING row and changes nothing."""
    await workshop(gql, sessionmaker)
    payload = await run_costing_mutation(gql, **period())
    await run_job(sessionmaker, redis, payload["job"]["id"])
    before = await snapshot_table(sessionmaker, "work_order_costs", "item_valuations")
    moves = await revaluations(sessionmaker)
    async with sessionmaker.begin() as s:  # as if the finish had been lost with the worker
        await s.execute(Job.__table__.update().values(status="RUNNING", finished_at=None))
    await run_job(sessionmaker, redis, payload["job"]["id"])
    after = await snapshot_table(sessionmaker, "work_order_costs", "item_valuations")
    strip = {"work_order_costs": [r[:-1] for r in before["work_order_costs"]]}  # computed_at moves
    assert {"work_order_costs": [r[:-1] for r in after["work_order_costs"]]} == strip
    assert after["item_valuations"] == before["item_valuations"]
    assert await revaluations(sessionmaker) == moves
    async with sessionmaker() as s:
        assert await s.scalar(select(Job.status)) == "SUCCEEDED"
    # a finished job is not run again
    assert await run_job(sessionmaker, redis, payload["job"]["id"]) is None


async def test_cost_is_null_before_costing_and_without_costing_read(
    gql: Any, sessionmaker: Any, redis: Any, make_token: Any
) -> None:
    await workshop(gql, sessionmaker)
    assert await costs(gql) == {"A": None, "B": None}
    await cost_and_wait(gql, sessionmaker, redis, **period())
    planner = await make_token("planner")
    body = await gql("{ viewer { scopes } }", token=planner)
    scopes = body["data"]["viewer"]["scopes"]
    assert "production:read" in scopes and "costing:read" not in scopes, scopes
    assert await costs(gql, token=planner) == {"A": None, "B": None}
    refused = await run_costing_mutation(gql, token=planner, **period())
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"] and refused["job"] is None


@pytest.mark.parametrize(("change", "code", "field", "words"), [
    ({"periodEnd": str(TODAY - timedelta(days=2))}, "INVALID", ["periodEnd"], "end before it starts"),
    ({"overheadAmount": "-1"}, "INVALID", ["overheadAmount"], "must not be negative"),
    ({"overheadAmount": "1.001"}, "INVALID", ["overheadAmount"], "decimal places"),
    ({"periodStart": str(TODAY + timedelta(days=1)), "periodEnd": str(TODAY + timedelta(days=30))},
     "INVALID", ["periodStart"], "no work order was completed"),
])
async def test_bad_input_changes_nothing(
    gql: Any, sessionmaker: Any, change: dict[str, str], code: str, field: list[str], words: str
) -> None:
    await workshop(gql, sessionmaker)
    before = await snapshot_table(sessionmaker, "jobs", "costing_runs", "work_order_costs", "stock_moves")
    payload = await run_costing_mutation(gql, **period(**change))
    assert payload["job"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], payload
    assert words in payload["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, "jobs", "costing_runs", "work_order_costs", "stock_moves") == before


async def test_labour_hours_without_hours_is_refused(gql: Any, sessionmaker: Any) -> None:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    item = await create_item(gql, "KIT", kind="FINISHED", procurement="MAKE")
    assert (await set_bom(gql, item, [(await create_item(gql, "PART"), "1")]))["errors"] == []
    wo = await released(gql, item, "2")
    assert (await report(gql, wo["id"], "2"))["errors"] == []  # no hours reported
    payload = await run_costing_mutation(gql, **period(allocationBasis="LABOR_HOURS"))
    assert payload["job"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", ["allocationBasis"])]
    assert "no labour hours were reported" in payload["errors"][0]["message"]
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(CostingRun)) == 0
    # by quantity the same period is fine: nothing issued, so the cost is the overhead alone
    ok = await run_costing_mutation(gql, **period(overheadAmount="5"))
    assert ok["errors"] == [] and ok["job"]["status"] == "QUEUED"


async def test_a_worker_runs_the_queued_job_through_the_outbox(gql: Any, sessionmaker: Any, settings: Any) -> None:
    """runCosting writes a job.queued event; the relay queues run_costing on arq; a real worker runs it."""
    from tests.integration.mrp_helpers import wait_for_job, worker

    await workshop(gql, sessionmaker)
    payload = await run_costing_mutation(gql, **period())
    assert payload["errors"] == [] and payload["job"]["status"] == "QUEUED", payload
    # the same request while it is still queued returns that job
    same = await run_costing_mutation(gql, **period())
    assert same["job"]["id"] == payload["job"]["id"]
    async with worker(settings):
        job = await wait_for_job(gql, payload["job"]["id"])
    assert job["status"] == "SUCCEEDED" and job["kind"] == "COSTING", job
    assert "costed 2 work orders" in job["message"]
    found = await costs(gql)
    assert found["A"] is not None and found["A"]["totalCost"] == "39.02"
    await ledger_consistent(sessionmaker)
