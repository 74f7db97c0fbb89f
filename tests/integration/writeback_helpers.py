"""Shared pieces of the ERP writeback tests: settings pointing at a real trytond, a world of
records to write, reading what reached Tryton, and waiting for the writeback's rows."""

from __future__ import annotations

import asyncio
import uuid
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


class HoldingProxy:
    """An HTTP proxy in front of trytond that holds the first call of one JSON-RPC method.

    The caller sees the call hang; ``held`` is set when it arrives. On ``release`` the held
    call is answered 502 without reaching Tryton (its caller is gone by then in the tests).
    """

    def __init__(self, target: str, method: str) -> None:
        self.target = target
        self.method = method.encode()
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        import httpx
        from starlette.requests import Request
        from starlette.responses import Response

        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        if self.method in body and not self.held.is_set():
            self.held.set()
            await self.release.wait()
            response = Response(status_code=502)
        else:
            async with httpx.AsyncClient() as client:
                answer = await client.request(
                    request.method, self.target + request.url.path, content=body,
                    headers={k: v for k, v in request.headers.items() if k in ("authorization", "content-type")},
                )
            response = Response(answer.content, status_code=answer.status_code,
                                media_type=answer.headers.get("content-type"))
        await response(scope, receive, send)
