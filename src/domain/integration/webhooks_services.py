"""Webhook use cases: register and delete endpoints, fan events out, claim and record attempts.

Each takes the caller's session. A delivery is sent by at most one worker at a time: the
worker *claims* it for one attempt number (a conditional UPDATE that takes a lease, in a
short transaction of its own, so no row lock or transaction stays open during the POST,
which would hold back the relay's event horizon), POSTs, then *records* the attempt
under that lease. A claim for an attempt already made, or of a delivery no longer
PENDING, or while another worker's lease runs, finds nothing: jobs run at least once
(arq), an attempt is recorded at most once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.integration import webhooks_rules as rules
from domain.integration.webhooks import (
    SOURCE_TYPES,
    DeliveryStatus,
    EventType,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from domain.integration.webhooks_rules import Outcome
from domain.sales.models import SalesOrder
from domain.shared import backoff
from domain.shared.errors import not_found

DELIVERIES = cast(Table, WebhookDelivery.__table__)
GONE_REASON = "the endpoint answered 410 Gone"


@dataclass(frozen=True, slots=True)
class Due:
    """An attempt to hand to the workers: which delivery, and its number (1 for the first)."""

    delivery_id: int
    message_id: uuid.UUID
    attempt: int


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a worker holds for one attempt, with what it needs to send it."""

    delivery_id: int
    attempt: int
    lease_token: uuid.UUID
    message_id: str
    event_type: str
    occurred_at: datetime
    data: dict[str, Any]
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Sent:
    """What one POST gave: an HTTP status, or the error when no answer came."""

    attempted_at: datetime
    duration_ms: int
    http_status: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Recorded:
    status: DeliveryStatus
    # the next attempt, and the wait before it, when the delivery is to be retried
    retry: Due | None = None
    retry_in_s: float = 0.0


def message_id(raw: uuid.UUID) -> str:
    """The ``webhook-id`` header of a delivery."""
    return f"msg_{raw.hex}"


async def create(
    session: AsyncSession, url: str, events: Sequence[str], description: str | None, actor: str | None
) -> Webhook:
    """A new active endpoint with a fresh secret (``Webhook.secret``: show it once)."""
    rules.check_endpoint(url, events, description)
    webhook = Webhook(url=url, events=sorted(set(events)), description=description,
                      secret=rules.new_secret(), created_by=actor)
    session.add(webhook)
    await session.flush()
    return webhook


async def delete_endpoint(session: AsyncSession, webhook_id: int) -> Webhook:
    """Delete an endpoint with its deliveries and their attempts; the endpoint as it was.

    Jobs still queued for its deliveries find nothing to send.
    """
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None:
        raise not_found("webhook", "id")
    await session.delete(webhook)
    await session.flush()
    return webhook


async def fan_out(session: AsyncSession, rows: Sequence[Any]) -> list[Due]:
    """Make sure each event of ``rows`` (``domain_events`` rows) has its delivery to every
    active endpoint subscribed to it (created before it happened); the first attempts due.

    Idempotent: a delivery that exists already is left as it is, and only deliveries never
    tried are returned (queueing one again is a no-op for arq, and a claim makes it run
    once). Costs no statement when no row is of a type an endpoint could subscribe to.
    """
    events = [(row, kind) for row in rows if row.type in SOURCE_TYPES
              if (kind := rules.public_type(row.type, row.payload)) is not None]
    if not events:
        return []
    endpoints = (await session.execute(
        select(Webhook.id, Webhook.events, Webhook.created_at)
        .where(Webhook.active, Webhook.events.overlap(sorted({kind.value for _, kind in events})))
    )).all()
    if not endpoints:
        return []
    numbers = await _order_numbers(session, [row.entity_id for row, kind in events
                                             if kind is EventType.ORDER_STATUS_CHANGED])
    values: list[dict[str, Any]] = []
    for row, kind in events:
        data = rules.event_data(kind, row.entity_id, row.payload, numbers.get(row.entity_id))
        values.extend(
            {"webhook_id": endpoint.id, "event_id": row.id, "event_type": kind.value,
             "occurred_at": row.occurred_at, "data": data}
            for endpoint in endpoints
            if kind.value in endpoint.events and endpoint.created_at <= row.occurred_at
        )
    if not values:
        return []
    await session.execute(
        insert(DELIVERIES).values(values).on_conflict_do_nothing(index_elements=["webhook_id", "event_id"])
    )
    due = await session.execute(
        select(WebhookDelivery.id, WebhookDelivery.message_id, WebhookDelivery.attempts)
        .where(WebhookDelivery.webhook_id.in_({value["webhook_id"] for value in values}),
               WebhookDelivery.event_id.in_({value["event_id"] for value in values}),
               WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.attempts == 0)
        .order_by(WebhookDelivery.id)
    )
    return [Due(row.id, row.message_id, row.attempts + 1) for row in due]


async def _order_numbers(session: AsyncSession, order_ids: list[int]) -> dict[int, str]:
    if not order_ids:
        return {}
    rows = await session.execute(select(SalesOrder.id, SalesOrder.number).where(SalesOrder.id.in_(set(order_ids))))
    return {order_id: number for order_id, number in rows}


async def claim(session: AsyncSession, delivery_id: int, attempt: int, lease_s: float) -> Claimed | None:
    """Hold a PENDING delivery for attempt number ``attempt``; None when that is not for us
    to send (made already, delivery finished or gone, another worker's lease running).

    A delivery whose endpoint was disabled meanwhile ends FAILED here, unsent.
    """
    token = uuid.uuid4()
    claimed = (await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.PENDING,
               WebhookDelivery.attempts == attempt - 1,
               func.coalesce(WebhookDelivery.lease_until, func.now()) <= func.now(),
               Webhook.id == WebhookDelivery.webhook_id)
        .values(lease_token=token, lease_until=func.now() + _seconds(lease_s))
        .returning(WebhookDelivery.message_id, WebhookDelivery.event_type, WebhookDelivery.occurred_at,
                   WebhookDelivery.data, Webhook.url, Webhook.secret, Webhook.active)
    )).one_or_none()
    if claimed is None:
        return None
    if not claimed.active:
        await _finish_unsent(session, [delivery_id])
        return None
    return Claimed(delivery_id, attempt, token, message_id(claimed.message_id), claimed.event_type,
                   claimed.occurred_at, claimed.data, claimed.url, claimed.secret)


async def record(
    session: AsyncSession, claimed: Claimed, sent: Sent, *, max_attempts: int, backoff_s: float, backoff_max_s: float
) -> Recorded | None:
    """Store the attempt and move the delivery on; None when the lease was lost (another
    worker took the delivery over after it ran out: its attempt is the one recorded).

    2xx: DELIVERED. 5xx, 429, no answer: PENDING again after the backoff, GIVEN_UP after
    ``max_attempts``. 410: FAILED, and the endpoint is disabled (its other pending
    deliveries end FAILED unsent). Any other answer: FAILED.
    """
    result = rules.outcome(sent.http_status)
    retry_in = 0.0
    if result is Outcome.DELIVERED:
        status = DeliveryStatus.DELIVERED
    elif result is Outcome.RETRY and claimed.attempt < max_attempts:
        status = DeliveryStatus.PENDING
        retry_in = backoff.backoff_s(claimed.attempt, backoff_s, backoff_max_s)
    elif result is Outcome.RETRY:
        status = DeliveryStatus.GIVEN_UP
    else:
        status = DeliveryStatus.FAILED
    finished = status != DeliveryStatus.PENDING
    moved = (await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claimed.delivery_id, WebhookDelivery.lease_token == claimed.lease_token)
        .values(status=status, attempts=claimed.attempt, lease_token=None, lease_until=None,
                next_attempt_at=func.now() + _seconds(retry_in),
                finished_at=func.now() if finished else None)
        .returning(WebhookDelivery.webhook_id, WebhookDelivery.message_id)
    )).one_or_none()
    if moved is None:
        return None
    session.add(WebhookAttempt(delivery_id=claimed.delivery_id, number=claimed.attempt,
                               attempted_at=sent.attempted_at, duration_ms=sent.duration_ms,
                               http_status=sent.http_status, error=sent.error))
    if result is Outcome.GONE:
        await _disable(session, moved.webhook_id, f"{GONE_REASON} (delivery {message_id(moved.message_id)})")
    await session.flush()
    if status != DeliveryStatus.PENDING:
        return Recorded(status)
    return Recorded(status, Due(claimed.delivery_id, moved.message_id, claimed.attempt + 1), retry_in)


async def _disable(session: AsyncSession, webhook_id: int, reason: str) -> None:
    await session.execute(
        update(Webhook).where(Webhook.id == webhook_id, Webhook.active).values(active=False, disabled_reason=reason)
    )
    pending = await session.execute(
        select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook_id,
                                         WebhookDelivery.status == DeliveryStatus.PENDING)
    )
    await _finish_unsent(session, list(pending.scalars()))


async def _finish_unsent(session: AsyncSession, delivery_ids: list[int]) -> None:
    """FAILED without (another) attempt: the endpoint is disabled."""
    if delivery_ids:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.FAILED, finished_at=func.now(), lease_token=None, lease_until=None)
        )


async def overdue(session: AsyncSession, grace_s: float, limit: int) -> list[Due]:
    """PENDING deliveries due more than ``grace_s`` ago and held by no worker: their job was
    lost (Redis flushed or restarted without its data, a worker killed after its lease)."""
    rows = await session.execute(
        select(WebhookDelivery.id, WebhookDelivery.message_id, WebhookDelivery.attempts)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING,
               WebhookDelivery.next_attempt_at < func.now() - _seconds(grace_s),
               func.coalesce(WebhookDelivery.lease_until, func.now()) <= func.now())
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    return [Due(row.id, row.message_id, row.attempts + 1) for row in rows]


def _seconds(seconds: float) -> Any:
    return text("make_interval(secs => :seconds)").bindparams(seconds=seconds)

