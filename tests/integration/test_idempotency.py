"""Idempotency-Key on GraphQL POSTs through the real app: replay, 422, 409, parallel, 400, owners."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, text

from api.relay import from_global_id
from domain.inventory.models import StockMove
from tests.conftest import StatementCounter
from tests.integration.helpers import add_warehouse, create_item
from tests.integration.idempotency_helpers import customer_body, customers, key_rows, post, write_key

PROBLEM = "application/problem+json"


async def test_same_key_same_body_replays_the_first_answer(
    http: httpx.AsyncClient, admin_token: str, sessionmaker: Any,
) -> None:
    """The second request gets the first's status, type and body byte for byte, marked as a
    replay, and nothing runs: run again, the mutation would answer DUPLICATE (code taken)."""
    body = customer_body("IDEM-REPLAY")
    first = await post(http, admin_token, body, "k-1")
    assert first.status_code == 200, first.text
    assert first.json()["data"]["createCustomer"]["errors"] == []
    assert "idempotency-replayed" not in first.headers
    again = await post(http, admin_token, body, "k-1")
    assert again.status_code == 200
    assert again.headers["idempotency-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.content == first.content
    assert await customers(sessionmaker, "IDEM-REPLAY") == 1
    [row] = await key_rows(sessionmaker)
    assert (row.state, row.status_code, row.effect_committed) == ("DONE", 200, True)
    assert row.owner != admin_token and admin_token not in row.owner  # its hash, never the token


async def test_same_key_another_body_is_422(http: httpx.AsyncClient, admin_token: str, sessionmaker: Any) -> None:
    await post(http, admin_token, customer_body("IDEM-A"), "k-2")
    other = await post(http, admin_token, customer_body("IDEM-B"), "k-2")
    assert other.status_code == 422
    assert other.headers["content-type"].startswith(PROBLEM)
    problem = other.json()
    assert problem["type"].endswith("idempotency-key-reused") and problem["title"] and problem["detail"]
    assert await customers(sessionmaker, "IDEM-B") == 0


async def until(check: Any) -> None:
    """Wait (bounded by tries, not by time) until ``check()`` is true."""
    for _ in range(2000):
        if await check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("never happened")


async def test_same_key_while_the_first_runs_is_409(
    http: httpx.AsyncClient, admin_token: str, sessionmaker: Any,
) -> None:
    """The first request is held inside its mutation (the customers table locked by the test);
    the second, sent meanwhile, is refused with 409 and runs nothing. Released, the first
    finishes, and a third request replays its answer."""
    body = customer_body("IDEM-HELD")
    async with sessionmaker.begin() as lock:
        await lock.execute(text("LOCK TABLE customers IN EXCLUSIVE MODE"))
        first = asyncio.create_task(post(http, admin_token, body, "k-held"))

        async def claimed() -> bool:
            return len(await key_rows(sessionmaker)) == 1

        await until(claimed)
        second = await post(http, admin_token, body, "k-held")
        assert second.status_code == 409, second.text
        assert second.headers["content-type"].startswith(PROBLEM)
        assert second.json()["type"].endswith("idempotency-key-in-progress")
        assert not first.done()
    answered = await first
    assert answered.status_code == 200 and answered.json()["data"]["createCustomer"]["errors"] == []
    third = await post(http, admin_token, body, "k-held")
    assert third.headers["idempotency-replayed"] == "true" and third.content == answered.content
    assert await customers(sessionmaker, "IDEM-HELD") == 1


ADJUST = """
mutation($input: StockAdjustmentInput!) {
  adjustStock(input: $input) { stock { onHand } errors { code field message } }
}"""


async def test_twenty_parallel_requests_with_one_key_have_one_effect(
    http: httpx.AsyncClient, gql: Any, admin_token: str, sessionmaker: Any,
) -> None:
    """Twenty +5 adjustments with one key at once: on hand is 5 (not 100), one stock move.
    Each answer is the one run (200), its replay (200, same body) or 409 (still running)."""
    await add_warehouse(gql, "MAIN", default=True)
    item = await create_item(gql, "IDEM-PAR")
    body = json.dumps({"query": ADJUST, "variables": {"input": {"itemId": item, "quantity": "5",
                                                                "reason": "count"}}}).encode()
    answers = await asyncio.gather(*(post(http, admin_token, body, "k-par") for _ in range(20)))
    assert {answer.status_code for answer in answers} <= {200, 409}
    ran = [a for a in answers if a.status_code == 200 and "idempotency-replayed" not in a.headers]
    assert len(ran) == 1
    assert ran[0].json()["data"]["adjustStock"] == {"stock": {"onHand": "5.00"}, "errors": []}
    assert all(a.content == ran[0].content for a in answers if a.status_code == 200)
    async with sessionmaker() as session:
        moves = (await session.execute(select(func.count()).select_from(StockMove).where(
            StockMove.item_id == int(from_global_id(item)[1])))).scalar_one()
    assert moves == 1
    later = await post(http, admin_token, body, "k-par")
    assert later.headers["idempotency-replayed"] == "true" and later.content == ran[0].content


async def test_malformed_keys_are_400_and_run_nothing(
    http: httpx.AsyncClient, admin_token: str, sessionmaker: Any,
) -> None:
    body = customer_body("IDEM-BAD")
    for key in (b'""', b'"' + b"k" * 256 + b'"', b'"open', b'"caf\xc3\xa9"'):
        answer = await post(http, admin_token, body, key)
        assert answer.status_code == 400, key
        assert answer.headers["content-type"].startswith(PROBLEM)
        assert answer.json()["type"].endswith("idempotency-key-malformed")
    twice = await http.post("/graphql", content=body, headers=[
        ("Authorization", f"Bearer {admin_token}"), ("Content-Type", "application/json"),
        ("Idempotency-Key", '"a"'), ("Idempotency-Key", '"b"')])
    assert twice.status_code == 400
    assert await customers(sessionmaker, "IDEM-BAD") == 0
    assert await key_rows(sessionmaker) == []
    bare = await post(http, admin_token, body, b"bare-key-1")  # a bare token is accepted too
    assert bare.status_code == 200 and await customers(sessionmaker, "IDEM-BAD") == 1


async def test_keys_of_different_tokens_never_collide(
    http: httpx.AsyncClient, admin_token: str, make_token: Any, sessionmaker: Any,
) -> None:
    """One key, two tokens, two bodies: both run (no 422), neither is a replay."""
    other = await make_token("admin", "second-admin")
    mine = await post(http, admin_token, customer_body("IDEM-T1"), "shared-key")
    theirs = await post(http, other, customer_body("IDEM-T2"), "shared-key")
    for answer in (mine, theirs):
        assert answer.status_code == 200 and "idempotency-replayed" not in answer.headers
        assert answer.json()["data"]["createCustomer"]["errors"] == []
    assert await customers(sessionmaker, "IDEM-T1") == 1 and await customers(sessionmaker, "IDEM-T2") == 1
    assert len({row.owner for row in await key_rows(sessionmaker)}) == 2


async def test_without_the_header_nothing_changes(
    http: httpx.AsyncClient, admin_token: str, sessionmaker: Any, sql_counter: StatementCounter,
) -> None:
    """No key: the request runs as always (a second identical create is DUPLICATE, no replay)
    and not one statement touches idempotency_keys."""
    body = customer_body("IDEM-NONE")
    with sql_counter.measure() as counted:
        first = await post(http, admin_token, body, None)
        second = await post(http, admin_token, body, None)
    assert first.json()["data"]["createCustomer"]["errors"] == []
    assert second.json()["data"]["createCustomer"]["errors"][0]["code"] == "DUPLICATE"
    assert "idempotency-replayed" not in second.headers
    assert not any("idempotency_keys" in statement for statement in counted.statements)
    assert await key_rows(sessionmaker) == []


async def test_an_expired_key_runs_again(http: httpx.AsyncClient, admin_token: str, sessionmaker: Any) -> None:
    """A stored answer older than 24 hours is not replayed (nor compared): the key is new again."""
    await write_key(sessionmaker, admin_token, "k-old", b"another body", state="DONE", status_code=200,
                    content_type="application/json", body=b'{"data": "stale"}', age=timedelta(hours=25))
    body = customer_body("IDEM-OLD")
    answer = await post(http, admin_token, body, "k-old")
    assert answer.status_code == 200 and "idempotency-replayed" not in answer.headers
    assert answer.json()["data"]["createCustomer"]["errors"] == []
    assert await customers(sessionmaker, "IDEM-OLD") == 1
    again = await post(http, admin_token, body, "k-old")
    assert again.headers["idempotency-replayed"] == "true" and again.content == answer.content


async def test_a_request_error_is_stored_and_replayed(
    http: httpx.AsyncClient, admin_token: str, sessionmaker: Any,
) -> None:
    """A 4xx is the client's answer for that body: kept and replayed like a success."""
    first = await post(http, admin_token, b"{not json", "k-400")
    assert first.status_code == 400
    again = await post(http, admin_token, b"{not json", "k-400")
    assert again.status_code == 400 and again.headers["idempotency-replayed"] == "true"
    assert again.content == first.content
    [row] = await key_rows(sessionmaker)
    assert (row.state, row.status_code, row.effect_committed) == ("DONE", 400, False)
