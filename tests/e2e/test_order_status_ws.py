"""A real websocket client follows an order from draft to closed across a reconnect."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from api.relay import to_global_id
from erpgraph.settings import Settings
from tests.integration.helpers import adjust, graphql_ws
from tests.integration.test_backorders import bells, confirmed
from tests.integration.test_order_status_stream import create_order, set_status
from workers.outbox import read_cursor
from workers.settings import run_worker

QUERY = """
subscription ($orderId: ID, $after: String) {
  orderStatusChanged(orderId: $orderId, after: $after) {
    cursor status previousStatus order { id status }
  }
}
"""


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[None]:
    """The arq worker with its relay (cron + NOTIFY wake-up), as `erpgraph dev` runs it."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_worker(settings, stop=stop, queue_name=f"test:{uuid.uuid4().hex[:12]}:queue")
    )
    yield
    stop.set()
    await asyncio.wait_for(task, 10)


async def subscribe(ws: Any, app: Any, subscribers: int, **variables: Any) -> None:
    await ws.send(json.dumps({"id": "s", "type": "subscribe",
                              "payload": {"query": QUERY, "variables": variables}}))
    hub = app.state.resources.events
    for _ in range(500):  # the subscription is live once it is in the hub
        if hub.subscriber_count == subscribers:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("subscription did not start")


async def next_events(ws: Any, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    events = []
    async with asyncio.timeout(timeout):
        while len(events) < count:
            message = json.loads(await ws.recv())
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            events.append(message["payload"]["data"]["orderStatusChanged"])
    return events


async def silent(ws: Any, wait: float = 0.7) -> bool:
    try:
        message = await asyncio.wait_for(ws.recv(), wait)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected message {message}")


async def test_reconnect_with_after_gets_exactly_the_missed_events_then_live_ones(
    app: Any, live_server: str, admin_token: str, sessionmaker: Any, redis_url: str, worker: None
) -> None:
    order_id, _ = await create_order(sessionmaker)
    gid = to_global_id("SalesOrder", order_id)

    ws = await graphql_ws(live_server, admin_token)
    await subscribe(ws, app, 1, orderId=gid)
    await set_status(sessionmaker, order_id, "CONFIRMED")
    await set_status(sessionmaker, order_id, "PARTIALLY_SHIPPED")
    first = await next_events(ws, 2)
    assert [(e["previousStatus"], e["status"]) for e in first] == [
        ("DRAFT", "CONFIRMED"), ("CONFIRMED", "PARTIALLY_SHIPPED")]
    assert all(e["order"]["id"] == gid for e in first)
    await ws.close()  # the client goes away mid-way

    # Missed: committed and relayed while nobody listened.
    redis = aioredis.Redis.from_url(redis_url)
    try:
        relayed = await read_cursor(redis)
        await set_status(sessionmaker, order_id, "SHIPPED")
        for _ in range(200):
            if await read_cursor(redis) != relayed:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the relay did not publish the missed event")
    finally:
        await redis.aclose()

    ws = await graphql_ws(live_server, admin_token)
    try:
        await subscribe(ws, app, 1, orderId=gid, after=first[-1]["cursor"])
        (missed,) = await next_events(ws, 1)
        assert (missed["previousStatus"], missed["status"]) == ("PARTIALLY_SHIPPED", "SHIPPED")
        assert await silent(ws)

        await set_status(sessionmaker, order_id, "CLOSED")
        (live,) = await next_events(ws, 1)
        assert (live["previousStatus"], live["status"], live["order"]["status"]) == (
            "SHIPPED", "CLOSED", "CLOSED")
        assert await silent(ws)
        cursors = [e["cursor"] for e in [*first, missed, live]]
        assert len(set(cursors)) == 4
    finally:
        await ws.close()


async def test_a_bad_cursor_is_an_error_message_without_a_trace(
    live_server: str, admin_token: str
) -> None:
    ws = await graphql_ws(live_server, admin_token)
    try:
        await ws.send(json.dumps({"id": "s", "type": "subscribe",
                                  "payload": {"query": QUERY, "variables": {"after": "bad"}}}))
        message = json.loads(await ws.recv())
        done = json.loads(await ws.recv())
    finally:
        await ws.close()
    # an execution error of the source stream: one result with errors, then the end
    assert (message["type"], message["payload"]["data"], done["type"]) == ("next", None, "complete")
    (error,) = message["payload"]["errors"]
    assert error["extensions"] == {"code": "INVALID", "field": ["after"]}
    assert error["message"] == "after: is not a valid cursor"


async def test_events_reach_subscribers_of_every_api_process(
    app: Any, live_server: str, admin_token: str, sessionmaker: Any, settings: Settings, worker: None
) -> None:
    """One API in this process, one `erpgraph serve` in another: both stream the change."""
    import os
    import socket
    import sys

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = os.environ | {"DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or "",
                        "ERPGRAPH_ENV": "test"}
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "erpgraph.cli", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    other_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (await client.get(other_url + "/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the second API process did not start")
        order_id, _ = await create_order(sessionmaker)
        gid = to_global_id("SalesOrder", order_id)
        here = await graphql_ws(live_server, admin_token)
        there = await graphql_ws(other_url, admin_token)
        try:
            await set_status(sessionmaker, order_id, "CONFIRMED")
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {admin_token}"}) as client:
                body = (await client.post(other_url + "/graphql", json={
                    "query": "query($id: ID!) { salesOrder(id: $id) { statusHistory { cursor } } }",
                    "variables": {"id": gid}})).json()
            (confirmed,) = body["data"]["salesOrder"]["statusHistory"]
            await subscribe(here, app, 1, orderId=gid)
            # After that cursor, the next change arrives by replay or live, whichever wins;
            # once it has, that subscription is past its handover and live.
            await there.send(json.dumps({"id": "s", "type": "subscribe", "payload": {
                "query": QUERY, "variables": {"orderId": gid, "after": confirmed["cursor"]}}}))
            await set_status(sessionmaker, order_id, "PARTIALLY_SHIPPED")
            assert [e["status"] for e in await next_events(here, 1)] == ["PARTIALLY_SHIPPED"]
            assert [e["status"] for e in await next_events(there, 1)] == ["PARTIALLY_SHIPPED"]
            # The next change can only reach the other process through Redis pub/sub.
            await set_status(sessionmaker, order_id, "SHIPPED")
            (mine,) = await next_events(here, 1)
            (theirs,) = await next_events(there, 1)
            assert mine == theirs
            assert (mine["previousStatus"], mine["status"]) == ("PARTIALLY_SHIPPED", "SHIPPED")
            assert await silent(here) and await silent(there)
        finally:
            await here.close()
            await there.close()
    finally:
        other.terminate()
        await asyncio.wait_for(other.wait(), 20)


async def test_an_allocation_reaches_the_subscriber_with_its_reason(
    app: Any, live_server: str, admin_token: str, sessionmaker: Any, gql: Any, worker: None
) -> None:
    bell, customer = await bells(gql, sessionmaker, "0")
    order_id = await confirmed(gql, customer, bell, "3")  # all 3 backordered
    ws = await graphql_ws(live_server, admin_token)
    try:
        await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {
            "query": "subscription($id: ID) { orderStatusChanged(orderId: $id) { status previousStatus reason } }",
            "variables": {"id": order_id}}}))
        hub = app.state.resources.events
        for _ in range(500):
            if hub.subscriber_count == 1:
                break
            await asyncio.sleep(0.01)
        assert (await adjust(gql, bell, "3", reason="found in the back"))["errors"] == []
        (event,) = await next_events(ws, 1)
        assert (event["previousStatus"], event["status"]) == ("CONFIRMED", "CONFIRMED")
        assert event["reason"].startswith("reserved 3 of BELL-01 from stock adjustment (found in the back)")
    finally:
        await ws.close()
