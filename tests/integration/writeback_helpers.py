"""Shared pieces of the ERP writeback tests: settings pointing at a real trytond, a world of
records to write, reading what reached Tryton, and waiting for the writeback's rows."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from domain.integration.erp.tryton import TrytonConnector
from erpgraph.settings import Settings
from erpgraph.tryton_local import LocalTryton
from tests.integration.helpers import adjust, create_item, create_warehouse
from tests.integration.sales_helpers import confirm, create_customer, create_order, pk


def writeback_settings(database_url: str, redis_url: str, tryton: LocalTryton, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "ERPGRAPH_ENV": "test",
        "ERPGRAPH_QUEUE_NAME": f"arq:queue:test-{uuid.uuid4().hex[:12]}",
        **tryton.environment,
        # fast retries; the sweeper's cron never sweeps a row a test is still watching
        "ERPGRAPH_SYNC_BACKOFF_S": "0.2", "ERPGRAPH_SYNC_BACKOFF_MAX_S": "1",
        "ERPGRAPH_SYNC_SWEEP_GRACE_S": "3600",
    }
    return Settings(**(values | overrides))


async def order_world(gql: Any, sessionmaker: Any, number_of_orders: int = 1) -> dict[str, Any]:
    """A customer, two stocked items, and confirmed orders of both with a discount on one line."""
    warehouse = await create_warehouse(sessionmaker, "MAIN", default=True)
    bolt = await create_item(gql, "BOLT-M8", name="Bolt M8", listPrice="0.40", uom="pcs")
    wire = await create_item(gql, "WIRE-CU", name="Copper wire", listPrice="2.15", uom="m")
    await adjust(gql, bolt, "1000", warehouse)
    await adjust(gql, wire, "1000", warehouse)
    customer = await create_customer(gql, "ACME")
    orders = []
    for _ in range(number_of_orders):
        payload = await create_order(gql, customer, [
            {"itemId": bolt, "quantity": "100", "unitPrice": "0.40", "discountPercent": "10"},
            {"itemId": wire, "quantity": "12.5", "unitPrice": "2.15"},
        ])
        assert payload["errors"] == [], payload
        confirmed = await confirm(gql, payload["order"]["id"])
        assert confirmed["order"]["status"] == "CONFIRMED", confirmed
        orders.append(confirmed["order"])
    return {"customer": customer, "items": (bolt, wire), "orders": orders}


async def refs(sessionmaker: Any) -> dict[tuple[str, int], dict[str, Any]]:
    """Every writeback row, by (entity type, entity id)."""
    async with sessionmaker() as session:
        rows = (await session.execute(text(
            "SELECT entity_type, entity_id, system, external_id, status, attempts, last_error, sync_seq,"
            " synced_at FROM external_refs WHERE writeback"
        ))).mappings().all()
    return {(row["entity_type"], row["entity_id"]): dict(row) for row in rows}


async def ref_of(sessionmaker: Any, global_id: str, entity_type: str) -> dict[str, Any] | None:
    return (await refs(sessionmaker)).get((entity_type, pk(global_id)))


async def wait_for(
    check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 60.0, every_s: float = 0.1
) -> Any:
    """Poll ``check`` until it returns something truthy; its value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(every_s)


async def all_synced(sessionmaker: Any, expected: int) -> bool:
    rows = await refs(sessionmaker)
    return len(rows) == expected and all(row["status"] == "SYNCED" for row in rows.values())


async def tryton_read(connector: TrytonConnector, model: str, domain: list[Any], fields: list[str]) -> list[Any]:
    return list(await connector.execute(
        model, "search_read", domain, 0, None, [("id", "ASC")], fields, context={"active_test": False}
    ))


async def tryton_sales(connector: TrytonConnector, reference: str) -> list[Any]:
    return await tryton_read(connector, "sale.sale", [("reference", "=", reference)],
                             ["state", "party.code", "currency.code", "lines"])
