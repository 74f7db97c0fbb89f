"""Running MRP in tests: queue it through the API, let a real arq worker run it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from erpgraph.settings import Settings
from tests.support import wait_until
from workers.settings import run_worker

ERRORS = "errors { code field message }"
RUN_FIELDS = """
  id startDate horizonDays forecastMinProbability itemsPlanned completedAt
  job { id kind status progress message error startedAt finishedAt }
"""
RUN_MRP = "mutation($input: MrpRunInput) { runMrp(input: $input) { run {" + RUN_FIELDS + "} " + ERRORS + " } }"
ORDER_FIELDS = """
  id number kind status quantity releaseDate dueDate item { sku }
  pegging { source quantity date salesOrder { number } opportunity { name } workOrder { number }
            parent { id item { sku } } }
  firmedAs { __typename ... on PurchaseOrder { number } ... on WorkOrder { number } }
"""
PLANNED_ORDERS = (
    "query($itemId: ID, $kind: PlannedOrderKind, $first: Int) {"
    " plannedOrders(first: $first, itemId: $itemId, kind: $kind) { totalCount edges { node {"
    + ORDER_FIELDS + "} } } }"
)
JOB = "query($id: ID!) { job(id: $id) { id kind status progress message error } }"
LATEST = "{ latestMrpRun {" + RUN_FIELDS + " messages { item { sku } severity code message } } }"


@contextlib.asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[None]:
    """An arq worker (with the relay) in this event loop, stopped on exit."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def run_mrp(gql: Any, **input: Any) -> dict[str, Any]:
    body = await gql(RUN_MRP, {"input": input or None})
    payload = dict(body["data"]["runMrp"])
    assert payload["errors"] == [], payload
    return dict(payload["run"])


async def wait_for_job(gql: Any, job_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll ``job`` until it is finished; returns it."""

    async def finished() -> dict[str, Any] | None:
        job = (await gql(JOB, {"id": job_id}))["data"]["job"]
        return dict(job) if job["status"] in ("SUCCEEDED", "FAILED") else None

    return await wait_until(finished, f"job {job_id} to finish", timeout)


async def planned(gql: Any, **variables: Any) -> list[dict[str, Any]]:
    body = await gql(PLANNED_ORDERS, {"first": 100} | variables)
    return [edge["node"] for edge in body["data"]["plannedOrders"]["edges"]]


async def run_and_wait(gql: Any, settings: Settings, **input: Any) -> dict[str, Any]:
    """Queue a run, run a worker until the job finishes; returns the run (job finished)."""
    run = await run_mrp(gql, **input)
    async with worker(settings):
        job = await wait_for_job(gql, run["job"]["id"])
    assert job["status"] == "SUCCEEDED", job
    return run


async def pegging_orphans(sessionmaker: Any) -> int:
    """Pegs naming a planned order (own or parent) that does not exist.

    The pegging has no foreign keys (see ``domain.planning.models``): its writer keeps it
    whole, and this is how the tests hold it to that.
    """
    from sqlalchemy import func, select

    from domain.planning.models import Pegging, PlannedOrder

    def missing(column: Any) -> Any:
        return ~select(PlannedOrder.id).where(PlannedOrder.id == column).exists()

    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Pegging).where(
                missing(Pegging.planned_order_id)
                | (Pegging.parent_planned_order_id.is_not(None) & missing(Pegging.parent_planned_order_id))
            )
        )
    return int(count or 0)
