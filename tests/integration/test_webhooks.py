"""Outbound webhooks end to end: the API registers endpoints, the relay fans events out, a
real arq worker POSTs them to a real receiver that verifies each signature with the
``standardwebhooks`` package."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from arq import ArqRedis
from sqlalchemy import func, select, text
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.relay import to_global_id
from domain.integration.webhooks import WebhookAttempt, WebhookDelivery
from domain.integration.webhooks_services import Due
from erpgraph.settings import Settings
from tests.integration.helpers import create_item
from tests.integration.mrp_helpers import wait_for_job, worker
from tests.integration.sales_helpers import create_customer, create_order, pk
from tests.integration.test_order_status_stream import set_status
from tests.support import serving
from workers.outbox import RelayConfig, relay
from workers.webhooks import arq_job_id, deliver_webhook, sweep_webhook_deliveries

ERRORS = "errors { code field message }"
CREATE = (
    "mutation($input: WebhookInput!) { createWebhook(input: $input) {"
    " webhook { id url events description active disabledReason createdAt } secret " + ERRORS + " } }"
)
DELETE = "mutation($id: ID!) { deleteWebhook(id: $id) { webhook { id url } " + ERRORS + " } }"
WEBHOOKS = "{ webhooks { id url events active disabledReason } }"
DELIVERIES = """
query($id: ID!, $first: Int, $after: String) {
  webhookDeliveries(webhookId: $id, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id eventId eventType occurredAt status nextAttemptAt finishedAt
                   attempts { number attemptedAt durationMs httpStatus error } } }
  }
}"""
ORDER_EVENT = "order.status_changed"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # retries in a fraction of a second, so a test sees a few of them
    return settings.model_copy(update={"webhook_backoff_s": 0.2, "webhook_backoff_max_s": 0.5,
                                       "webhook_max_attempts": 3, "webhook_timeout_s": 2.0})


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    payload: Any  # what verify() returned, None when it refused the signature
    status: int


@dataclass
class Receiver:
    """An HTTP endpoint answering with the statuses of ``script`` in turn (then 200), verifying
    every request with the endpoint's secret as a real receiver would."""

    url: str = ""
    secret: str | None = None
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    # seconds to wait before answering each of the first requests
    delays: list[float] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        body = await request.body()
        headers = dict(request.headers)
        try:
            payload = Webhook(self.secret or "").verify(body, headers) if self.secret else None
        except WebhookVerificationError:
            payload = None
        status = self.script.pop(0) if self.script else 200
        self.received.append(Received(body, headers, payload, status))
        return Response(status_code=status)

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.received) < count:
            assert asyncio.get_running_loop().time() < deadline, f"{len(self.received)} of {count} requests came"
            await asyncio.sleep(0.05)
        return self.received


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    async with serving(app) as url:
        receiver.url = f"{url}/hook"
        yield receiver


async def create_webhook(gql: Any, receiver: Receiver, events: list[str] | None = None) -> str:
    body = await gql(CREATE, {"input": {"url": receiver.url, "events": events or [ORDER_EVENT],
                                        "description": "test receiver"}})
    payload = body["data"]["createWebhook"]
    assert payload["errors"] == [], payload
    receiver.secret = payload["secret"]
    return str(payload["webhook"]["id"])


async def deliveries(gql: Any, webhook_id: str) -> list[dict[str, Any]]:
    body = await gql(DELIVERIES, {"id": webhook_id, "first": 50})
    return [edge["node"] for edge in body["data"]["webhookDeliveries"]["edges"]]


async def settled(gql: Any, webhook_id: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The deliveries once ``count`` of them exist and none is PENDING."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await deliveries(gql, webhook_id)
        if len(found) >= count and all(each["status"] != "PENDING" for each in found):
            return found
        assert asyncio.get_running_loop().time() < deadline, found
        await asyncio.sleep(0.1)


async def an_order(gql: Any, sessionmaker: Any) -> int:
    """A DRAFT order (no event: written directly); ``set_status`` then changes it once."""
    from tests.integration.test_order_status_stream import create_order as draft

    order_id, _ = await draft(sessionmaker)
    return order_id


# ---------------------------------------------------------------- delivery


async def test_an_order_status_change_is_posted_signed(
    gql: Any, sessionmaker: Any, settings: Settings, receiver: Receiver
) -> None:
    webhook_id = await create_webhook(gql, receiver)
    assert receiver.secret is not None and receiver.secret.startswith("whsec_")
    customer = await create_customer(gql, "HOOK-1")
    item = await create_item(gql, "HOOK-SKU", kind="FINISHED", listPrice="12.50")
    created = await create_order(gql, customer, [{"itemId": item, "quantity": "2"}])
    assert created["errors"] == [], created
    order = created["order"]

    async with worker(settings):
        [request] = await receiver.wait_for(1)
        [delivery] = await settled(gql, webhook_id)

    # the receiver verified it with the package: the body it returned is the event
    assert request.status == 200 and request.payload is not None
    assert request.payload["type"] == ORDER_EVENT
    data = request.payload["data"]
    assert data["orderId"] == order["id"] and data["orderNumber"] == order["number"]
    assert data["customerId"] == customer
    assert (data["status"], data["previousStatus"]) == ("DRAFT", None)
    headers = request.headers
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"

    # one changed byte and the signature no longer matches
    tampered = request.body.replace(b'"DRAFT"', b'"SHIPPED"')
    assert tampered != request.body
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(tampered, headers)
    # nor does another endpoint's secret
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, headers)

    assert delivery["status"] == "DELIVERED" and delivery["eventType"] == ORDER_EVENT
    assert delivery["eventId"] == headers["webhook-id"] and delivery["nextAttemptAt"] is None
    [attempt] = delivery["attempts"]
    assert (attempt["number"], attempt["httpStatus"], attempt["error"]) == (1, 200, None)
    assert attempt["durationMs"] >= 0


async def test_a_500_is_retried_then_delivered(
    gql: Any, sessionmaker: Any, settings: Settings, receiver: Receiver
) -> None:
    webhook_id = await create_webhook(gql, receiver)
    order_id = await an_order(gql, sessionmaker)
    receiver.script = [500]
    await set_status(sessionmaker, order_id, "CONFIRMED", reason="test")

    async with worker(settings):
        [delivery] = await settled(gql, webhook_id)

    assert delivery["status"] == "DELIVERED"
    assert [(a["number"], a["httpStatus"]) for a in delivery["attempts"]] == [(1, 500), (2, 200)]
    assert delivery["attempts"][1]["attemptedAt"] > delivery["attempts"][0]["attemptedAt"]
    first, second = receiver.received
    # the same message twice, each attempt signed anew and verified by the receiver
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["eventId"]
    assert first.body == second.body and first.payload is not None and second.payload is not None
    assert second.payload["data"]["orderId"] == to_global_id("SalesOrder", order_id)


async def test_failures_are_retried_until_given_up(
    gql: Any, sessionmaker: Any, settings: Settings, receiver: Receiver
) -> None:
    answering = await create_webhook(gql, receiver)
    receiver.script = [503, 429, 502]
    # a second endpoint where nobody listens: connection errors
    closed = await gql(CREATE, {"input": {"url": "http://127.0.0.1:9/hook", "events": [ORDER_EVENT]}})
    silent = closed["data"]["createWebhook"]["webhook"]["id"]
    order_id = await an_order(gql, sessionmaker)
    await set_status(sessionmaker, order_id, "CONFIRMED")

    async with worker(settings):
        [refused] = await settled(gql, answering)
        [unanswered] = await settled(gql, silent)

    # ERPGRAPH_WEBHOOK_MAX_ATTEMPTS is 3 here
    assert refused["status"] == "GIVEN_UP" and refused["finishedAt"] is not None
    assert [(a["number"], a["httpStatus"]) for a in refused["attempts"]] == [(1, 503), (2, 429), (3, 502)]
    assert len(receiver.received) == 3
    assert unanswered["status"] == "GIVEN_UP"
    assert [(a["number"], a["httpStatus"]) for a in unanswered["attempts"]] == [(1, None), (2, None), (3, None)]
    assert all(a["error"].startswith("ConnectError") for a in unanswered["attempts"])
    assert unanswered["eventId"] != refused["eventId"]  # one message per endpoint


async def test_an_answer_after_the_timeout_is_retried(
    gql: Any, sessionmaker: Any, settings: Settings, receiver: Receiver
) -> None:
    webhook_id = await create_webhook(gql, receiver)
    order_id = await an_order(gql, sessionmaker)
    receiver.delays = [settings.webhook_timeout_s + 1]
    await set_status(sessionmaker, order_id, "CONFIRMED")

    async with worker(settings):
        [delivery] = await settled(gql, webhook_id)

    assert delivery["status"] == "DELIVERED"
    timed_out, answered = delivery["attempts"]
    assert (timed_out["httpStatus"], timed_out["error"]) == (None, "timeout: no answer within 2 s")
    assert timed_out["durationMs"] >= 2000
    assert (answered["number"], answered["httpStatus"]) == (2, 200)


async def test_a_400_fails_without_a_retry(
    gql: Any, sessionmaker: Any, settings: Settings, receiver: Receiver
) -> None:
    webhook_id = await create_webhook(gql, receiver)
    order_id = await an_order(gql, sessionmaker)
    receiver.script = [400, 400]
    await set_status(sessionmaker, order_id, "CONFIRMED")

    async with worker(settings):
        [delivery] = await settled(gql, webhook_id)
        await asyncio.sleep(1.0)  # longer than the backoff: a retry would have come

    assert delivery["status"] == "FAILED"
    assert [(a["number"], a["httpStatus"]) for a in delivery["attempts"]] == [(1, 400)]
    assert len(receiver.received) == 1


async def test_a_410_disables_the_endpoint(
    gql: Any, sessionmaker: Any, settings: Settings, receiver: Receiver
) -> None:
    webhook_id = await create_webhook(gql, receiver)
    order_id = await an_order(gql, sessionmaker)
    receiver.script = [410]
    await set_status(sessionmaker, order_id, "CONFIRMED")

    async with worker(settings):
        [delivery] = await settled(gql, webhook_id)
        [webhook] = (await gql(WEBHOOKS))["data"]["webhooks"]
        assert webhook["active"] is False and "410" in webhook["disabledReason"]
        # later events are not delivered to it
        await set_status(sessionmaker, order_id, "CANCELLED", reason="later")
        await asyncio.sleep(1.5)  # the relay runs on every commit, and every second anyway

    assert delivery["status"] == "FAILED" and [a["httpStatus"] for a in delivery["attempts"]] == [410]
    assert len(await deliveries(gql, webhook_id)) == 1
    assert len(receiver.received) == 1


async def test_a_finished_job_is_announced(
    gql: Any, sessionmaker: Any, settings: Settings, receiver: Receiver
) -> None:
    webhook_id = await create_webhook(gql, receiver, ["job.completed", "job.failed"])
    order_id = await an_order(gql, sessionmaker)
    await set_status(sessionmaker, order_id, "CONFIRMED")  # not subscribed: not sent
    body = await gql("mutation { runCostRollup { job { id } errors { code } } }")
    job_id = body["data"]["runCostRollup"]["job"]["id"]

    async with worker(settings):
        job = await wait_for_job(gql, job_id)
        [request] = await receiver.wait_for(1)
        [delivery] = await settled(gql, webhook_id)

    assert job["status"] == "SUCCEEDED"
    assert request.payload is not None and request.payload["type"] == "job.completed"
    data = request.payload["data"]
    assert data == {"jobId": job_id, "kind": "COST_ROLLUP", "status": "SUCCEEDED",
                    "message": job["message"], "error": None}
    assert delivery["eventType"] == "job.completed" and delivery["status"] == "DELIVERED"


# ---------------------------------------------------------------- at least once, sent once


async def test_the_sweeper_requeues_what_redis_lost(
    gql: Any, app: Any, sessionmaker: Any, settings: Settings, receiver: Receiver, redis: Any
) -> None:
    webhook_id = await create_webhook(gql, receiver)
    order_id = await an_order(gql, sessionmaker)
    await set_status(sessionmaker, order_id, "CONFIRMED")
    arq = ArqRedis(connection_pool=redis.connection_pool)
    engine = app.state.resources.engine
    config = RelayConfig(queue_name=settings.queue_name)
    while not await relay(redis, engine, config):  # the relay fans out and queues the attempt
        await asyncio.sleep(0.05)
    async with sessionmaker() as session:
        row = (await session.execute(select(WebhookDelivery))).scalar_one()
    assert (row.status, row.attempts) == ("PENDING", 0)
    assert await arq.zcard(settings.queue_name) == 1

    await redis.flushdb()  # the queued job is gone; nothing would ever send it
    ctx = {"sessionmaker": sessionmaker, "redis": arq, "relay": config}
    assert await sweep_webhook_deliveries(ctx) == 0  # not overdue yet: its job may still run
    async with sessionmaker.begin() as session:  # a couple of minutes later
        await session.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now() - interval '2 minutes'"))
    assert await sweep_webhook_deliveries(ctx) == 1
    queued = await arq.queued_jobs(queue_name=settings.queue_name)
    assert [job.job_id for job in queued] == [arq_job_id(Due(row.id, row.message_id, 1))]

    async with worker(settings):
        [delivery] = await settled(gql, webhook_id)
    assert delivery["status"] == "DELIVERED" and len(receiver.received) == 1


async def test_two_runs_of_one_attempt_send_it_once(
    gql: Any, app: Any, sessionmaker: Any, settings: Settings, receiver: Receiver, redis: Any
) -> None:
    await create_webhook(gql, receiver)
    order_id = await an_order(gql, sessionmaker)
    await set_status(sessionmaker, order_id, "CONFIRMED")
    config = RelayConfig(queue_name=settings.queue_name)
    while not await relay(redis, app.state.resources.engine, config):
        await asyncio.sleep(0.05)
    async with sessionmaker() as session:
        delivery_id = (await session.execute(select(WebhookDelivery.id))).scalar_one()
    ctx = {"sessionmaker": sessionmaker, "settings": settings, "relay": config,
           "redis": ArqRedis(connection_pool=redis.connection_pool)}

    results = await asyncio.gather(*(deliver_webhook(ctx, delivery_id, 1) for _ in range(4)))
    assert sorted(results) == ["DELIVERED", "skipped", "skipped", "skipped"]
    assert await deliver_webhook(ctx, delivery_id, 1) == "skipped"  # made already
    assert len(receiver.received) == 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookAttempt)) == 1


# ---------------------------------------------------------------- the API


async def test_bad_input_is_refused_with_user_errors(gql: Any) -> None:
    cases: list[tuple[dict[str, Any], list[tuple[str, list[str]]]]] = [
        ({"url": "ftp://example.com/x", "events": [ORDER_EVENT]}, [("INVALID", ["url"])]),
        ({"url": "/relative/hook", "events": [ORDER_EVENT]}, [("INVALID", ["url"])]),
        ({"url": "http://example.com:99999/", "events": [ORDER_EVENT]}, [("INVALID", ["url"])]),
        ({"url": "https://example.com/" + "x" * 1990, "events": [ORDER_EVENT]}, [("INVALID", ["url"])]),
        ({"url": "https://example.com/hook", "events": []}, [("INVALID", ["events"])]),
        ({"url": "https://example.com/hook", "events": [ORDER_EVENT, "order.shipped"]},
         [("INVALID", ["events", "1"])]),
        ({"url": "mailto:x@example.com", "events": ["nope"]}, [("INVALID", ["url"]), ("INVALID", ["events", "0"])]),
    ]
    for given, expected in cases:
        payload = (await gql(CREATE, {"input": given}))["data"]["createWebhook"]
        assert payload["webhook"] is None and payload["secret"] is None, given
        assert [(e["code"], e["field"]) for e in payload["errors"]] == expected, given
    assert (await gql(WEBHOOKS))["data"]["webhooks"] == []
    # 2000 characters are fine
    url = "https://example.com/" + "x" * 1980
    assert len(url) == 2000
    created = await gql(CREATE, {"input": {"url": url, "events": [ORDER_EVENT]}})
    assert created["data"]["createWebhook"]["errors"] == []


async def test_only_admins_manage_webhooks(
    gql: Any, make_token: Callable[..., Awaitable[str]], receiver: Receiver
) -> None:
    webhook_id = await create_webhook(gql, receiver)
    for role in ("sales", "finance", "partner"):
        token = await make_token(role)
        created = await gql(CREATE, {"input": {"url": receiver.url, "events": [ORDER_EVENT]}}, token=token)
        assert [e["code"] for e in created["data"]["createWebhook"]["errors"]] == ["FORBIDDEN"]
        deleted = await gql(DELETE, {"id": webhook_id}, token=token)
        assert [e["code"] for e in deleted["data"]["deleteWebhook"]["errors"]] == ["FORBIDDEN"]
        for query, variables in ((WEBHOOKS, None), (DELIVERIES, {"id": webhook_id})):
            body = await gql(query, variables, token=token, expect_errors=True)
            assert body["data"] is None
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert len((await gql(WEBHOOKS))["data"]["webhooks"]) == 1


async def test_the_secret_is_shown_once(gql: Any, receiver: Receiver) -> None:
    webhook_id = await create_webhook(gql, receiver)
    assert receiver.secret is not None
    body = await gql("{ webhooks { secret } }", expect_errors=True)
    assert "Cannot query field 'secret' on type 'Webhook'" in body["errors"][0]["message"]
    listed = await gql(WEBHOOKS)
    assert receiver.secret not in json.dumps(listed)
    assert listed["data"]["webhooks"][0]["id"] == webhook_id


async def test_deliveries_page_newest_first_and_go_with_their_endpoint(
    gql: Any, sessionmaker: Any, settings: Settings, receiver: Receiver
) -> None:
    webhook_id = await create_webhook(gql, receiver)
    order_id = await an_order(gql, sessionmaker)
    for status in ("CONFIRMED", "SHIPPED", "CLOSED"):
        await set_status(sessionmaker, order_id, status)
    async with worker(settings):
        found = await settled(gql, webhook_id, count=3)
    statuses = [json.loads(r.body)["data"]["status"] for r in receiver.received]
    assert sorted(statuses) == ["CLOSED", "CONFIRMED", "SHIPPED"]

    first = (await gql(DELIVERIES, {"id": webhook_id, "first": 2}))["data"]["webhookDeliveries"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"] is True
    rest = (await gql(DELIVERIES, {"id": webhook_id, "first": 2, "after": first["pageInfo"]["endCursor"]}))
    page = [edge["node"]["id"] for edge in first["edges"]]
    page += [edge["node"]["id"] for edge in rest["data"]["webhookDeliveries"]["edges"]]
    assert page == [each["id"] for each in found]
    assert [pk(each) for each in page] == sorted((pk(each) for each in page), reverse=True)

    deleted = (await gql(DELETE, {"id": webhook_id}))["data"]["deleteWebhook"]
    assert deleted["errors"] == [] and deleted["webhook"]["id"] == webhook_id
    assert (await gql(WEBHOOKS))["data"]["webhooks"] == []
    gone = await gql(DELIVERIES, {"id": webhook_id}, expect_errors=True)
    assert [e["extensions"]["code"] for e in gone["errors"]] == ["NOT_FOUND"]
    again = (await gql(DELETE, {"id": webhook_id}))["data"]["deleteWebhook"]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("NOT_FOUND", ["id"])]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookAttempt)) == 0

