"""Idempotency-Key across crashes: what a RUNNING key left by a dead process means, decided by
whether its effect committed; failed attempts release their key; a taken-over attempt that
wakes up late commits nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.idempotency import Idempotency
from domain.identity.services import hash_token
from domain.integration import idempotency as store
from domain.integration.idempotency import Claim, Seen
from domain.shared.errors import DomainError
from tests.integration.idempotency_helpers import customer_body, customers, key_rows, post, write_key

LEASE = timedelta(minutes=5)  # the default ERPGRAPH_IDEMPOTENCY_LEASE_S
DEAD = LEASE + timedelta(minutes=1)


async def test_a_running_key_within_its_lease_is_409(
    http: httpx.AsyncClient, admin_token: str, sessionmaker: Any,
) -> None:
    body = customer_body("IDEM-LIVE")
    await write_key(sessionmaker, admin_token, "k-live", body, effect_committed=False)
    answer = await post(http, admin_token, body, "k-live")
    assert answer.status_code == 409 and answer.json()["type"].endswith("idempotency-key-in-progress")
    assert await customers(sessionmaker, "IDEM-LIVE") == 0


async def test_a_dead_attempt_that_committed_nothing_is_run_again(
    http: httpx.AsyncClient, admin_token: str, sessionmaker: Any,
) -> None:
    """RUNNING for longer than the lease, effect not committed: the process died before the
    change; the retry takes the key over, runs, and its answer is the one stored."""
    body = customer_body("IDEM-RERUN")
    await write_key(sessionmaker, admin_token, "k-rerun", body, effect_committed=False, age=DEAD)
    answer = await post(http, admin_token, body, "k-rerun")
    assert answer.status_code == 200 and "idempotency-replayed" not in answer.headers
    assert answer.json()["data"]["createCustomer"]["errors"] == []
    assert await customers(sessionmaker, "IDEM-RERUN") == 1
    [row] = await key_rows(sessionmaker)
    assert (row.state, row.effect_committed) == ("DONE", True)
    again = await post(http, admin_token, body, "k-rerun")
    assert again.headers["idempotency-replayed"] == "true" and again.content == answer.content


async def test_a_dead_attempt_whose_effect_committed_is_never_run_again(
    http: httpx.AsyncClient, admin_token: str, sessionmaker: Any,
) -> None:
    """RUNNING for longer than the lease, effect committed: the change happened, its answer
    was lost. 409 saying so, and nothing runs (no customer appears)."""
    body = customer_body("IDEM-LOST")
    await write_key(sessionmaker, admin_token, "k-lost", body, effect_committed=True, age=DEAD)
    answer = await post(http, admin_token, body, "k-lost")
    assert answer.status_code == 409
    problem = answer.json()
    assert problem["type"].endswith("idempotency-response-lost") and "not run again" in problem["detail"]
    assert await customers(sessionmaker, "IDEM-LOST") == 0
    [row] = await key_rows(sessionmaker)
    assert (row.state, row.effect_committed) == ("RUNNING", True)


async def test_a_taken_over_attempt_cannot_commit_its_effect(sessionmaker: Any) -> None:
    """The first attempt's claim is taken over (its lease ran out); when it wakes up, its
    mutation's mark refuses (CONFLICT) so its transaction rolls back, and it stores nothing."""
    got = await store.claim(sessionmaker, "owner", "k", "fp")
    assert isinstance(got, Claim)
    async with sessionmaker.begin() as session:
        await session.execute(text("UPDATE idempotency_keys SET created_at = now() - interval '1 hour'"))
    seen = await store.claim(sessionmaker, "owner", "k", "fp")
    assert isinstance(seen, Seen)
    taken = await store.take_over(sessionmaker, "owner", "k", seen, LEASE)
    assert taken is not None and taken.attempt != got.attempt
    with pytest.raises(DomainError):
        async with sessionmaker.begin() as session:
            await store.mark_effect(session, got)
    assert not await store.finish(sessionmaker, got, 200, "application/json", b"{}")
    assert not await store.release(sessionmaker, got)
    [row] = await key_rows(sessionmaker)
    assert (row.attempt, row.state, row.effect_committed) == (taken.attempt, "RUNNING", False)


async def test_a_take_over_waits_for_an_effect_that_is_committing(sessionmaker: Any) -> None:
    """The old attempt's mutation has marked the key but not committed yet when a retry
    tries to take it over: the take-over waits on the row, sees the effect, takes nothing."""
    got = await store.claim(sessionmaker, "owner", "k", "fp")
    assert isinstance(got, Claim)
    async with sessionmaker.begin() as session:
        await session.execute(text("UPDATE idempotency_keys SET created_at = now() - interval '1 hour'"))
    seen = await store.claim(sessionmaker, "owner", "k", "fp")
    assert isinstance(seen, Seen) and not seen.effect_committed
    async with sessionmaker.begin() as mutation:
        await store.mark_effect(mutation, got)
        retry = asyncio.create_task(store.take_over(sessionmaker, "owner", "k", seen, LEASE))

        async def waiting() -> bool:
            async with sessionmaker() as session:
                return bool((await session.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'UPDATE idempotency_keys%'"))).scalar_one())

        for _ in range(2000):
            if await waiting():
                break
            await asyncio.sleep(0.005)
        else:
            raise AssertionError("the take-over never waited on the row")
    assert await retry is None
    [row] = await key_rows(sessionmaker)
    assert (row.attempt, row.effect_committed) == (got.attempt, True)


class Answers:
    """A stand-in app that answers ``status`` or raises, behind the real middleware and database."""

    def __init__(self, real_app: Any) -> None:
        self.real_app = real_app
        self.status = 200
        self.fail = False
        self.calls = 0
        self.inner = Idempotency(self.respond, path="/graphql", lease_s=LEASE.total_seconds())

    async def respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await receive()
        if self.fail:
            raise RuntimeError("the app crashed")
        await Response(b'{"data": {}}', status_code=self.status, media_type="application/json")(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.real_app  # the middleware reaches the database through it
        await self.inner(scope, receive, send)


async def test_a_server_error_or_a_crash_releases_the_key(app: Any, admin_token: str, sessionmaker: Any) -> None:
    """Neither a 5xx nor an exception is kept: the key is free and the retry runs (3 calls);
    the 200 after them is stored and replayed (still 3 calls)."""
    answers = Answers(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=answers, raise_app_exceptions=False),
                                 base_url="http://test") as client:
        answers.status = 503
        assert (await post(client, admin_token, b"{}", "k-5xx")).status_code == 503
        assert await key_rows(sessionmaker) == []
        answers.fail = True
        assert (await post(client, admin_token, b"{}", "k-5xx")).status_code == 500
        assert await key_rows(sessionmaker) == []
        answers.fail, answers.status = False, 200
        assert (await post(client, admin_token, b"{}", "k-5xx")).status_code == 200
        replay = await post(client, admin_token, b"{}", "k-5xx")
    assert replay.status_code == 200 and replay.headers["idempotency-replayed"] == "true"
    assert answers.calls == 3
    [row] = await key_rows(sessionmaker)
    assert (row.owner, row.state, row.status_code, row.body) == (hash_token(admin_token), "DONE", 200,
                                                                 b'{"data": {}}')


async def test_purge_deletes_only_expired_keys(admin_token: str, sessionmaker: Any) -> None:
    """Rows of 25 h and 23 h: the first is past the 24 h the answer is kept, the second not."""
    await write_key(sessionmaker, admin_token, "k-25h", b"{}", state="DONE", status_code=200,
                    age=timedelta(hours=25))
    await write_key(sessionmaker, admin_token, "k-23h", b"{}", state="DONE", status_code=200,
                    age=timedelta(hours=23))
    # as the worker's hourly cron runs it
    from workers.housekeeping import purge_idempotency_keys
    from workers.settings import _cron_jobs

    assert "cron:purge_idempotency_keys" in {job.name for job in _cron_jobs()}
    assert await purge_idempotency_keys({"sessionmaker": sessionmaker}) == 1
    assert [row.key for row in await key_rows(sessionmaker)] == ["k-23h"]
