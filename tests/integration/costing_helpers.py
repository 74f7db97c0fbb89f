"""Running actual costing in tests: queue it through the API, run the job function directly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from api.relay import from_global_id
from domain.inventory.models import ItemValuation, StockMove
from workers.costing_runs import run_costing
from workers.outbox import RelayConfig

ERRORS = "errors { code field message }"
RUN_COSTING = (
    "mutation($input: CostingRunInput!) { runCosting(input: $input) {"
    " job { id kind status message error } " + ERRORS + " } }"
)
COST_FIELDS = (
    "materialCost overheadCost totalCost unitCost computedAt variance revaluedAmount "
    "allocationBasis periodStart periodEnd"
)
WORK_ORDERS = (
    "query { workOrders(first: 50) { edges { node { number item { sku } cost {" + COST_FIELDS + "} } } } }"
)


async def run_costing_mutation(gql: Any, token: str | None = None, **input: Any) -> dict[str, Any]:
    body = await gql(RUN_COSTING, {"input": input}, token=token)
    return dict(body["data"]["runCosting"])


async def run_job(sessionmaker: Any, redis: Any, job_global_id: str) -> dict[str, Any] | None:
    """Run the costing job as the worker would (arq calls it with the job's row id)."""
    decoded = from_global_id(job_global_id)
    assert decoded is not None and decoded[0] == "Job"
    ctx = {"sessionmaker": sessionmaker, "redis": redis, "relay": RelayConfig()}
    return await run_costing(ctx, decoded[1])


async def cost_and_wait(gql: Any, sessionmaker: Any, redis: Any, **input: Any) -> dict[str, Any]:
    """Queue a run and run it; returns the finished job."""
    payload = await run_costing_mutation(gql, **input)
    assert payload["errors"] == [], payload
    await run_job(sessionmaker, redis, payload["job"]["id"])
    job = (await gql("query($id: ID!) { job(id: $id) { id kind status message error } }",
                     {"id": payload["job"]["id"]}))["data"]["job"]
    return dict(job)


async def costs(gql: Any, token: str | None = None) -> dict[str, dict[str, Any] | None]:
    body = await gql(WORK_ORDERS, token=token)
    return {edge["node"]["item"]["sku"]: edge["node"]["cost"] for edge in body["data"]["workOrders"]["edges"]}


async def revaluations(sessionmaker: Any) -> list[tuple[int, int, Any]]:
    """Every REVALUATION row: (item id, work order id, value), in order."""
    async with sessionmaker() as s:
        rows = await s.execute(
            select(StockMove.item_id, StockMove.reference_id, StockMove.value)
            .where(StockMove.kind == "REVALUATION").order_by(StockMove.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def stock_value(sessionmaker: Any, item_pk: int) -> Any:
    async with sessionmaker() as s:
        return (await s.execute(
            select(func.coalesce(func.sum(ItemValuation.value), 0)).where(ItemValuation.item_id == item_pk)
        )).scalar_one()
