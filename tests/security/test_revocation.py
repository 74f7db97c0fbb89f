"""Revocation is immediate: `erpgraph token revoke` refuses the token's next HTTP request in
every API process and closes its websockets with 4403, with no worker (relay) running."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text

from api.auth import Authenticator
from domain.identity.services import hash_token
from erpgraph.settings import Settings
from tests.integration.helpers import graphql_ws
from tests.integration.test_order_status_stream import create_order

ME = "query { viewer { name role } }"
SUBSCRIPTION = "subscription { orderStatusChanged { status } }"


def _env(settings: Settings) -> dict[str, str]:
    return os.environ | {"DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or "",
                         "ERPGRAPH_ENV": "test"}


async def cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "erpgraph.cli", *args, env=_env(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def two_apis(settings: Settings, sessionmaker: Any) -> AsyncIterator[list[str]]:
    """Two `erpgraph serve` processes on the test database; no worker runs."""
    from tests.e2e.processes import free_port

    ports = [free_port(), free_port()]
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "erpgraph.cli", "serve", "--port", str(port), env=_env(settings),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient() as client:
            for url in urls:
                for _ in range(600):
                    try:
                        if (await client.get(url + "/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError(f"{url} did not start")
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.wait_for(process.wait(), 20)


async def ask(url: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        return await client.post(url + "/graphql", json={"query": ME})


async def test_revoked_token_is_refused_at_once_by_every_process_and_its_websocket_closed(
    settings: Settings, make_token: Any, sessionmaker: Any, two_apis: list[str]
) -> None:
    token = await make_token("sales", "till-3")
    other = await make_token("sales", "till-4")
    for url in two_apis:  # both processes have the token cached now
        for each in (token, other):
            response = await ask(url, each)
            assert response.status_code == 200 and "errors" not in response.json(), response.text
    ws = await graphql_ws(two_apis[0], token)
    await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
    bystander = await graphql_ws(two_apis[1], other)
    await bystander.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
    await asyncio.sleep(0.5)  # the subscriptions are running
    await create_order(sessionmaker)  # traffic on the channel; the connections stay open
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), 0.3)

    code, out, err = await cli(settings, "token", "revoke", "till-3")
    revoked_at = time.monotonic()
    assert code == 0, err
    assert out.startswith("revoked till-3 (sales, eg_")

    for url in two_apis:  # the next request, on both processes
        response = await ask(url, token)
        assert response.status_code == 401, (url, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await ask(url, other)).status_code == 200  # other tokens are untouched
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(1.0):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    print(f"\nwebsocket closed {time.monotonic() - revoked_at:.3f} s after the CLI returned")
    # the other token's websocket is still open
    await bystander.ping()
    await bystander.close()
    # a new websocket with the revoked token is refused
    with pytest.raises(websockets.ConnectionClosed) as refused:
        await graphql_ws(two_apis[1], token)
    assert refused.value.rcvd is not None and refused.value.rcvd.code == 4403


async def test_token_list_and_revoke_by_prefix(settings: Settings, make_token: Any) -> None:
    first = await make_token("finance", "ledger-sync")
    await make_token("partner", "shop")
    code, out, err = await cli(settings, "token", "list")
    assert code == 0, err
    header, *lines = out.splitlines()
    assert header.split() == ["NAME", "ROLE", "PREFIX", "CREATED", "(UTC)", "REVOKED", "(UTC)"]
    rows = {line.split()[0]: line.split() for line in lines}
    assert rows["ledger-sync"][1:3] == ["finance", first[:11]]
    assert rows["ledger-sync"][-1] == "-" and rows["shop"][1] == "partner"
    assert first[11:] not in out  # the secret part is never shown

    code, out, err = await cli(settings, "token", "revoke", first[:8])  # a shorter prefix
    assert (code, err) == (0, "") and out.startswith("revoked ledger-sync (finance, ")
    _, out, _ = await cli(settings, "token", "list")
    revoked = next(line for line in out.splitlines() if line.startswith("ledger-sync"))
    assert revoked.split()[-1] != "-"
    code, out, err = await cli(settings, "token", "revoke", "ledger-sync")
    assert code == 1 and err == "erpgraph: token 'ledger-sync' is already revoked\n"


async def test_revoke_an_unknown_or_ambiguous_token_is_one_line_and_exit_1(
    settings: Settings, make_token: Any, sessionmaker: Any
) -> None:
    await make_token("sales", "twin")
    await make_token("sales", "twin")
    before = await _revoked(sessionmaker)
    code, out, err = await cli(settings, "token", "revoke", "nobody")
    assert (code, out) == (1, "") and err == "erpgraph: no token named or starting with 'nobody'\n"
    code, out, err = await cli(settings, "token", "revoke", "twin")
    assert (code, out) == (1, "") and len(err.splitlines()) == 1
    assert err.startswith("erpgraph: 'twin' matches 2 tokens: twin (eg_")
    code, out, err = await cli(settings, "token", "revoke", "eg_")
    assert code == 1 and err.startswith("erpgraph: no token named or starting with 'eg_'")
    assert await _revoked(sessionmaker) == before == 0


async def _revoked(sessionmaker: Any) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(text("SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL")))


async def test_without_the_listener_nothing_is_cached(sessionmaker: Any, make_token: Any) -> None:
    """While revocations may go unheard (LISTEN down), every request asks the database."""
    token = await make_token("sales", "cashier")
    authenticator = Authenticator(sessionmaker)
    assert authenticator.live is False
    assert await authenticator(token) is not None
    async with sessionmaker.begin() as session:  # revoked behind its back, no notification
        await session.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE name = 'cashier'"))
    assert await authenticator(token) is None


async def test_the_api_process_listens_and_caches_until_told(
    app: Any, sessionmaker: Any, make_token: Any, settings: Settings
) -> None:
    authenticator = app.state.resources.authenticator
    for _ in range(100):
        if authenticator.live:
            break
        await asyncio.sleep(0.05)
    assert authenticator.live, "the revocation listener did not start"
    token = await make_token("sales", "kiosk")
    assert await authenticator(token) is not None
    async with sessionmaker.begin() as session:  # a change without the notification is not seen:
        await session.execute(text("UPDATE api_tokens SET role = 'finance' WHERE name = 'kiosk'"))
    assert (await authenticator(token)).role == "sales"  # the cache answers (no query per request)
    code, _, err = await cli(settings, "token", "revoke", "kiosk")
    assert code == 0, err
    for _ in range(100):
        if await authenticator(token) is None:
            break
        await asyncio.sleep(0.01)
    assert await authenticator(token) is None


async def test_the_event_channel_tells_the_process_too(app: Any, sessionmaker: Any, make_token: Any) -> None:
    """The relayed `token.revoked` event (no NOTIFY here) drops the token as well."""
    from datetime import UTC, datetime

    from api.events import Event
    from domain.identity.services import TOKEN_REVOKED, hash_token

    authenticator = app.state.resources.authenticator
    for _ in range(100):
        if authenticator.live:
            break
        await asyncio.sleep(0.05)
    token = await make_token("sales", "terminal")
    assert await authenticator(token) is not None
    async with sessionmaker.begin() as session:
        await session.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE name = 'terminal'"))
    assert await authenticator(token) is not None  # cached, and nobody said anything
    app.state.resources.events.dispatch(Event(
        position=(1, 1), type=TOKEN_REVOKED, entity_type="ApiToken", entity_id=1,
        payload={"tokenHash": hash_token(token)}, occurred_at=datetime.now(UTC),
    ))
    await asyncio.sleep(0.05)
    assert await authenticator(token) is None


async def test_revocation_reaches_the_process_in_milliseconds(app: Any, sessionmaker: Any, make_token: Any) -> None:
    """From the revoking commit to the cached token refused, by NOTIFY alone (no worker)."""
    from domain.identity.services import revoke_token

    authenticator = app.state.resources.authenticator
    for _ in range(100):
        if authenticator.live:
            break
        await asyncio.sleep(0.05)
    delays = []
    for i in range(20):
        token = await make_token("sales", f"probe-{i}")
        assert await authenticator(token) is not None  # cached
        async with sessionmaker.begin() as session:
            await revoke_token(session, f"probe-{i}")
        committed = time.perf_counter()
        while authenticator._cache.get(hash_token(token)) is not None:
            assert time.perf_counter() - committed < 1.0, "the notification did not arrive"
            await asyncio.sleep(0.0005)
        delays.append(time.perf_counter() - committed)
        assert await authenticator(token) is None
    delays.sort()
    already = sum(delay < 0.0001 for delay in delays)
    print(f"\nrevocation heard: {already}/20 before the revoking commit returned; "
          f"after it: median {delays[10] * 1e6:.0f} us, max {delays[-1] * 1e6:.0f} us")


async def test_while_the_listener_is_down_nothing_is_cached_and_sockets_are_rechecked(
    app: Any, live_server: str, sessionmaker: Any, make_token: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.revocation.RECONNECT_S", 3.0)  # room for the steps below while it is down
    authenticator = app.state.resources.authenticator
    for _ in range(100):
        if authenticator.live:
            break
        await asyncio.sleep(0.05)
    token = await make_token("sales", "roaming")
    ws = await graphql_ws(live_server, token)
    assert await authenticator(token) is not None  # cached
    async with sessionmaker.begin() as session:  # the listener's connection dies
        killed = await session.scalar(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE query ILIKE '%LISTEN%erpgraph_token_revoked%' AND pid <> pg_backend_pid()"
        ))
    assert killed == 1
    for _ in range(100):
        if not authenticator.live:
            break
        await asyncio.sleep(0.01)
    assert not authenticator.live
    async with sessionmaker.begin() as session:  # revoked while nobody listens: no NOTIFY heard
        await session.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE name = 'roaming'"))
    assert await authenticator(token) is None  # no cache while down: the table answers
    with pytest.raises(websockets.ConnectionClosed) as closed:  # once back, open sockets are re-checked
        async with asyncio.timeout(8):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    assert authenticator.live
