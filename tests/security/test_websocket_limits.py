"""Websocket limits: a short init timeout, a cap on connections awaiting init, 4400 for
malformed messages and an ``error`` for a document over the token limit (issue 11)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from erpgraph.settings import Settings
from tests.integration.helpers import graphql_ws

MAX_PENDING = 2
INIT_TIMEOUT_S = 0.5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ws_init_timeout_s": INIT_TIMEOUT_S, "ws_max_pending_inits": MAX_PENDING})


async def _connect(live_server: str) -> Any:
    return await websockets.connect(live_server.replace("http", "ws") + "/graphql",
                                    subprotocols=["graphql-transport-ws"])


async def _closed_with(ws: Any, timeout: float = 3.0) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None, "closed without a close frame"
    return int(closed.value.rcvd.code)


async def test_a_connection_without_init_is_closed_after_the_init_timeout(live_server: str) -> None:
    ws = await _connect(live_server)
    started = asyncio.get_running_loop().time()
    assert await _closed_with(ws) == 4408
    assert asyncio.get_running_loop().time() - started < INIT_TIMEOUT_S + 1


async def test_connections_awaiting_init_are_capped(live_server: str, admin_token: str) -> None:
    waiting = [await _connect(live_server) for _ in range(MAX_PENDING)]
    over = await _connect(live_server)
    assert await _closed_with(over, timeout=INIT_TIMEOUT_S / 2) == 1013
    # once one of them is initialised, there is room again
    await waiting[0].send(json.dumps({"type": "connection_init",
                                      "payload": {"Authorization": f"Bearer {admin_token}"}}))
    assert json.loads(await waiting[0].recv())["type"] == "connection_ack"
    room = await graphql_ws(live_server, admin_token)
    await room.send(json.dumps({"type": "ping"}))
    assert json.loads(await room.recv())["type"] == "pong"
    for ws in [*waiting, room]:
        await ws.close()


@pytest.mark.parametrize(
    "message",
    [
        [],
        ["connection_init"],
        "connection_init",
        42,
        {"type": "subscribe", "id": "1", "payload": "subscription { jobProgress }"},
        {"type": "subscribe", "id": "1", "payload": ["query"]},
        {"type": "subscribe", "id": "1", "payload": {"query": 42}},
        {"type": "subscribe", "id": "1", "payload": {"query": "{ viewer { name } }", "variables": [1]}},
        {"type": "subscribe", "id": 1, "payload": {"query": "{ viewer { name } }"}},
        {"type": "complete", "id": {"x": 1}},
        {"type": "ping", "payload": "x"},
    ],
    ids=["array", "array-of-type", "string", "number", "payload-string", "payload-array",
         "query-number", "variables-array", "id-number", "complete-id-object", "ping-payload-string"],
)
async def test_malformed_messages_close_with_4400(live_server: str, admin_token: str, message: Any) -> None:
    ws = await graphql_ws(live_server, admin_token)
    await ws.send(json.dumps(message))
    assert await _closed_with(ws) == 4400


async def test_a_malformed_message_before_init_closes_with_4400(live_server: str) -> None:
    ws = await _connect(live_server)
    await ws.send("[]")
    assert await _closed_with(ws) == 4400


async def test_a_document_over_the_token_limit_gets_an_error_message(live_server: str, admin_token: str) -> None:
    ws = await graphql_ws(live_server, admin_token)
    query = "{ viewer { %s } }" % " ".join(["name"] * 6000)
    await ws.send(json.dumps({"type": "subscribe", "id": "big", "payload": {"query": query}}))
    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["type"] == "error" and message["id"] == "big", message
    assert "more than 5000 tokens" in message["payload"][0]["message"]
    # the connection stays usable
    await ws.send(json.dumps({"type": "subscribe", "id": "ok", "payload": {"query": "{ viewer { name } }"}}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert reply["type"] == "next" and reply["payload"]["data"]["viewer"]["name"], reply
    await ws.close()
