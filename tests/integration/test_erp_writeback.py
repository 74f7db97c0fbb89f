"""The ERP writeback end to end: GraphQL changes → outbox relay → arq worker → a real trytond.

Each test gets a fresh copy of the Tryton template database on its own trytond
(``tests/tryton_fixtures.py``) and a fresh erpgraph database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from domain.integration.erp import sync
from domain.integration.erp.sync import Policy
from domain.integration.erp.tryton import TrytonConnector
from erpgraph.settings import Settings
from erpgraph.tryton_local import LocalTryton
from tests.integration.helpers import create_item
from tests.integration.mrp_helpers import wait_for_job, worker
from tests.integration.order_builders import gid
from tests.integration.sales_helpers import create_customer, draft, pk
from tests.integration.writeback_helpers import (
    HoldingProxy,
    all_synced,
    order_world,
    ref_of,
    refs,
    tryton_read,
    tryton_sales,
    writeback_settings,
)
from tests.support import serving, wait_until
from workers import erp
from workers.outbox import RelayConfig, relay

ERPGRAPH = str(Path(sys.executable).with_name("erpgraph"))
# Tryton moves a confirmed sale on to processing at once (no shipments or invoices to wait for)
CONFIRMED = ("confirmed", "processing")
REFS = "externalRefs { system externalId status attempts lastError syncedAt }"
ORDER = "query($id: ID!) { salesOrder(id: $id) { number " + REFS + " } }"
RETRY = "mutation($id: ID!) { retrySync(id: $id) { job { id kind status } errors { code field message } } }"
JOB = "query($id: ID!) { job(id: $id) { status message error } }"
UPDATE_CUSTOMER = (
    "mutation($id: ID!, $input: CustomerUpdateInput!) { updateCustomer(id: $id, input: $input) {"
    " errors { code field message } } }"
)


@pytest.fixture
def settings(database_url: str, redis_url: str, tryton: LocalTryton) -> Settings:
    return writeback_settings(database_url, redis_url, tryton)


async def test_a_confirmed_order_becomes_a_confirmed_sale_in_tryton(
    gql: Any, sessionmaker: Any, settings: Settings, tryton_connector: TrytonConnector
) -> None:
    world = await order_world(gql, sessionmaker)
    order = world["orders"][0]

    async with worker(settings):
        await wait_until(lambda: all_synced(sessionmaker, 4), "customer, items and order SYNCED")

    (sale,) = await tryton_sales(tryton_connector, order["number"])
    assert sale["state"] in CONFIRMED
    assert sale["party."]["code"] == "ACME"
    assert sale["currency."]["code"] == "EUR"
    lines = await tryton_read(tryton_connector, "sale.line", [("sale", "=", sale["id"])],
                              ["product.code", "quantity", "unit_price", "unit.symbol", "description"])
    assert [(line["product."]["code"], Decimal(str(line["quantity"])), line["unit_price"], line["unit."]["symbol"],
             line["description"]) for line in lines] == [
        ("BOLT-M8", Decimal(100), Decimal("0.3600"), "u", "Bolt M8"),  # 0.40 less 10 %
        ("WIRE-CU", Decimal("12.5"), Decimal("2.1500"), "m", "Copper wire"),
    ]
    # Tryton's ids in the refs, one attempt each, and the graph shows them
    rows = await refs(sessionmaker)
    assert rows[("SalesOrder", pk(order["id"]))]["external_id"] == str(sale["id"])
    (party,) = await tryton_read(tryton_connector, "party.party", [("code", "=", "ACME")], ["name"])
    assert rows[("Customer", pk(world["customer"]))]["external_id"] == str(party["id"])
    assert {row["attempts"] for row in rows.values()} == {1}
    shown = (await gql(ORDER, {"id": order["id"]}))["data"]["salesOrder"]["externalRefs"]
    assert [(r["system"], r["externalId"], r["status"], r["attempts"], r["lastError"]) for r in shown] == [
        ("tryton", str(sale["id"]), "SYNCED", 1, None)
    ]
    assert shown[0]["syncedAt"] is not None


async def test_a_changed_customer_is_written_again_and_other_changes_are_not(
    gql: Any, sessionmaker: Any, settings: Settings, tryton_connector: TrytonConnector
) -> None:
    customer = await create_customer(gql, "ACME")
    async with worker(settings):
        await wait_until(lambda: all_synced(sessionmaker, 1), "the customer SYNCED")
        first = await ref_of(sessionmaker, customer, "Customer")
        assert first is not None

        # a credit limit is not Tryton's business: nothing is scheduled
        body = await gql(UPDATE_CUSTOMER, {"id": customer, "input": {"creditLimit": "5000"}})
        assert body["data"]["updateCustomer"]["errors"] == []
        body = await gql(UPDATE_CUSTOMER, {"id": customer, "input": {"name": "Acme Holding AG"}})
        assert body["data"]["updateCustomer"]["errors"] == []

        async def renamed() -> bool:
            parties = await tryton_read(tryton_connector, "party.party", [("code", "=", "ACME")], ["name"])
            return [p["name"] for p in parties] == ["Acme Holding AG"]

        await wait_until(renamed, "the party renamed in Tryton")
        await wait_until(lambda: all_synced(sessionmaker, 1), "the customer SYNCED again")
    after = await ref_of(sessionmaker, customer, "Customer")
    assert after is not None
    assert after["sync_seq"] == first["sync_seq"] + 1  # the rename only
    assert after["external_id"] == first["external_id"]


async def test_a_worker_killed_in_the_middle_of_a_writeback_leaves_exactly_one_sale(
    gql: Any, sessionmaker: Any, settings: Settings, redis: Any, tryton: LocalTryton,
    tryton_connector: TrytonConnector,
) -> None:
    world = await order_world(gql, sessionmaker)
    order = world["orders"][0]
    proxy = HoldingProxy(tryton.url, '"model.sale.sale.confirm"')
    async with serving(proxy) as proxy_url:
        env = os.environ | {
            "DATABASE_URL": str(settings.database_url), "REDIS_URL": str(settings.redis_url),
            "ERPGRAPH_QUEUE_NAME": settings.queue_name, **tryton.environment, "ERPGRAPH_TRYTON_URL": proxy_url,
        }
        process = await asyncio.create_subprocess_exec(
            ERPGRAPH, "worker", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            # the sale is created and quoted in Tryton; the worker waits for the answer to confirm
            await asyncio.wait_for(proxy.held.wait(), 60)
            (sale,) = await tryton_sales(tryton_connector, order["number"])
            assert sale["state"] == "quotation"
            row = await ref_of(sessionmaker, order["id"], "SalesOrder")
            assert row is not None and (row["status"], row["attempts"]) == ("PENDING", 1)
            process.send_signal(signal.SIGKILL)
            await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            proxy.release.set()

    # arq keeps the killed job locked for its timeout; the sweeper sees the row's lock gone with
    # the worker's connection and queues it again, for a worker restarted straight on Tryton
    async def swept() -> list[sync.Due]:
        async with sessionmaker.begin() as session:
            return await sync.sweep(session, "tryton", grace_s=0)

    dues = await wait_until(swept, "the sweeper to take the killed worker's row")
    assert len(dues) == 1
    async with worker(settings):
        await erp.enqueue(redis, dues, settings.queue_name)
        await wait_until(lambda: all_synced(sessionmaker, 4), "the order SYNCED after the restart")
    (sale,) = await tryton_sales(tryton_connector, order["number"])
    assert sale["state"] in CONFIRMED
    row = await ref_of(sessionmaker, order["id"], "SalesOrder")
    assert row is not None and (row["attempts"], row["external_id"]) == (2, str(sale["id"]))


async def test_tryton_down_for_a_while_retries_then_succeeds(
    gql: Any, sessionmaker: Any, settings: Settings, tryton: LocalTryton, tryton_connector: TrytonConnector
) -> None:
    tryton.stop()
    customer = await create_customer(gql, "ACME")
    async with worker(settings):
        async def retried() -> bool:
            row = await ref_of(sessionmaker, customer, "Customer")
            return row is not None and row["attempts"] >= 2

        await wait_until(retried, "two failed attempts")
        row = await ref_of(sessionmaker, customer, "Customer")
        assert row is not None and row["status"] == "PENDING"
        assert "unreachable" in row["last_error"]
        tryton.start()
        await wait_until(lambda: all_synced(sessionmaker, 1), "the customer SYNCED once Tryton is back")
    row = await ref_of(sessionmaker, customer, "Customer")
    assert row is not None and row["last_error"] is None
    parties = await tryton_read(tryton_connector, "party.party", [("code", "=", "ACME")], ["name"])
    assert len(parties) == 1


async def test_after_max_attempts_the_record_fails_and_retry_sync_brings_it_through(
    gql: Any, sessionmaker: Any, settings: Settings, database_url: str, redis_url: str, tryton: LocalTryton
) -> None:
    limited = writeback_settings(database_url, redis_url, tryton, ERPGRAPH_SYNC_MAX_ATTEMPTS="2",
                                 ERPGRAPH_QUEUE_NAME=settings.queue_name)  # where the API queues retrySync
    tryton.stop()
    customer = await create_customer(gql, "ACME")
    async with worker(limited):
        async def failed() -> dict[str, Any] | None:
            row = await ref_of(sessionmaker, customer, "Customer")
            return row if row is not None and row["status"] == "FAILED" else None

        row = await wait_until(failed, "the customer FAILED")
        assert row["attempts"] == 2 and "unreachable" in row["last_error"]
        tryton.start()
        await asyncio.sleep(1.5)  # longer than any backoff: nothing retries a FAILED record by itself
        still = await ref_of(sessionmaker, customer, "Customer")
        assert still is not None and (still["status"], still["attempts"]) == ("FAILED", 2)

        body = await gql(RETRY, {"id": customer})
        payload = body["data"]["retrySync"]
        assert payload["errors"] == [] and payload["job"]["kind"] == "ERP_SYNC"

        job = await wait_for_job(gql, payload["job"]["id"])
    assert job["status"] == "SUCCEEDED", job
    assert "customer ACME written to the ERP" in job["message"]
    row = await ref_of(sessionmaker, customer, "Customer")
    assert row is not None and (row["status"], row["attempts"], row["last_error"]) == ("SYNCED", 1, None)


async def test_a_rejected_record_fails_at_once_and_retry_sync_after_the_fix_syncs_it(
    gql: Any, sessionmaker: Any, settings: Settings, tryton_connector: TrytonConnector
) -> None:
    # Tryton knows no unit "box" until someone adds it there
    item = await create_item(gql, "CRATE", name="Crate", uom="box", listPrice="9.90")
    async with worker(settings):
        async def failed() -> dict[str, Any] | None:
            row = await ref_of(sessionmaker, item, "Item")
            return row if row is not None and row["status"] == "FAILED" else None

        row = await wait_until(failed, "the item FAILED")
        assert row["attempts"] == 1  # a permanent error is not retried
        assert "no unit of measure" in row["last_error"] and "box" in row["last_error"]
        shown = (await gql("query($id: ID!) { item(id: $id) { " + REFS + " } }", {"id": item}))
        assert shown["data"]["item"]["externalRefs"][0]["status"] == "FAILED"

        (unit,) = await tryton_read(tryton_connector, "product.uom", [("symbol", "=", "u")], ["category"])
        await tryton_connector.execute("product.uom", "create", [{
            "name": "Box", "symbol": "box", "category": unit["category"], "factor": 1.0, "rate": 1.0,
            "rounding": 1.0, "digits": 0,
        }])
        job_id = (await gql(RETRY, {"id": item}))["data"]["retrySync"]["job"]["id"]
        await wait_until(lambda: all_synced(sessionmaker, 1), "the item SYNCED after the fix")
        job = await wait_for_job(gql, job_id)
    assert job["status"] == "SUCCEEDED"
    (product,) = await tryton_read(tryton_connector, "product.product", [("code", "=", "CRATE")],
                                   ["template.default_uom.symbol"])
    assert product["template."]["default_uom."]["symbol"] == "box"


async def test_redis_flushed_mid_queue_the_sweeper_requeues_and_all_end_synced(
    gql: Any, sessionmaker: Any, settings: Settings, redis: Any, app: Any, tryton_connector: TrytonConnector
) -> None:
    world = await order_world(gql, sessionmaker, number_of_orders=3)
    for code in ("BETA", "GAMMA"):
        await create_customer(gql, code)
    engine = app.state.resources.engine
    config = RelayConfig(queue_name=settings.queue_name, writeback="tryton")
    # the relay schedules the rows and queues their jobs; then Redis loses everything
    assert await relay(redis, engine, config)
    assert len(await refs(sessionmaker)) == 8
    queued = [job_id for job_id in await redis.zrange(settings.queue_name, 0, -1) if job_id.startswith(b"erp:")]
    assert len(queued) == 8
    await redis.flushdb()

    async with worker(settings):
        await asyncio.sleep(2)  # the worker's relay replays from the start: nothing new to schedule
        rows = await refs(sessionmaker)
        assert {row["status"] for row in rows.values()} == {"PENDING"}
        assert {row["attempts"] for row in rows.values()} == {0}

        async with sessionmaker.begin() as session:
            dues = await sync.sweep(session, "tryton", grace_s=0)
        assert len(dues) == 8
        await erp.enqueue(redis, dues, settings.queue_name)
        await wait_until(lambda: all_synced(sessionmaker, 8), "every record SYNCED after the sweep")
    for order in world["orders"]:
        (sale,) = await tryton_sales(tryton_connector, order["number"])
        assert sale["state"] in CONFIRMED
    parties = await tryton_read(tryton_connector, "party.party", [("code", "in", ["ACME", "BETA", "GAMMA"])],
                                ["code"])
    assert sorted(p["code"] for p in parties) == ["ACME", "BETA", "GAMMA"]


async def test_two_jobs_for_one_record_write_it_once(
    gql: Any, sessionmaker: Any, settings: Settings, redis: Any, app: Any, tryton: LocalTryton,
    tryton_connector: TrytonConnector,
) -> None:
    world = await order_world(gql, sessionmaker)
    order = world["orders"][0]
    engine = app.state.resources.engine
    async with engine.begin() as conn:
        rows = (await conn.execute(text(
            "SELECT id, entity_type, entity_id, type, payload FROM domain_events ORDER BY id"
        ))).all()
        dues = await sync.schedule(conn, "tryton", rows)
    by_ref = {due.ref_id: due for due in dues}
    async with sessionmaker() as session:
        order_ref_id = await session.scalar(text(
            "SELECT id FROM external_refs WHERE writeback AND entity_type = 'SalesOrder'"
        ))
    due = by_ref[order_ref_id]

    # two deliveries of the same job at once (arq runs jobs at least once), each with its own HTTP session
    connectors = [TrytonConnector(tryton.url, tryton.database, tryton.user, tryton.password) for _ in range(2)]
    try:
        outcomes = await asyncio.gather(*(
            sync.sync(engine, sessionmaker, connector, due.ref_id, due.seq, Policy()) for connector in connectors
        ))
    finally:
        for connector in connectors:
            await connector.aclose()
    assert sorted(o.status for o in outcomes) == ["SKIPPED", "SYNCED"]
    assert len(await tryton_sales(tryton_connector, order["number"])) == 1
    # the order's customer and items were written first, inside its attempt
    assert await all_synced(sessionmaker, 4)
    # a job for an older scheduling, or for a SYNCED row, changes nothing
    stale = await sync.sync(engine, sessionmaker, connectors[0], due.ref_id, due.seq - 1, Policy())
    assert stale.status == "SKIPPED"


async def test_retry_sync_refuses_what_is_not_written(
    gql: Any, sessionmaker: Any, make_token: Any
) -> None:
    customer = await create_customer(gql, "ACME")
    item = await create_item(gql, "BOLT")
    order = await draft(gql, customer, item, "1")
    lead = (await gql(
        'mutation { createLead(input: {name: "Jo", company: "Jo Ltd"}) { lead { id } errors { code } } }'
    ))["data"]["createLead"]["lead"]["id"]
    cases = [
        ("not-an-id", "INVALID"),
        (lead, "INVALID"),
        (order, "INVALID_STATE"),  # a draft is not for the ERP
        (gid("Customer", 999_999), "NOT_FOUND"),
    ]
    for global_id, code in cases:
        payload = (await gql(RETRY, {"id": global_id}))["data"]["retrySync"]
        assert payload["job"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, ["id"])], (global_id, payload)
    sales = await make_token("sales")
    payload = (await gql(RETRY, {"id": customer}, token=sales))["data"]["retrySync"]
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    # nothing was scheduled by the refusals (the customer's own row is the relay's, not here yet)
    async with sessionmaker() as session:
        jobs = await session.scalar(text("SELECT count(*) FROM jobs WHERE kind = 'ERP_SYNC'"))
    assert jobs == 0


async def test_a_partner_named_like_the_erp_sees_none_of_the_writeback(
    gql: Any, sessionmaker: Any, settings: Settings, make_token: Any
) -> None:
    await create_customer(gql, "ACME")
    async with worker(settings):
        await wait_until(lambda: all_synced(sessionmaker, 1), "the customer SYNCED")
    partner = await make_token("partner", partner="tryton")
    body = await gql("{ customers(first: 10) { totalCount } }", token=partner)
    assert body["data"]["customers"]["totalCount"] == 0
