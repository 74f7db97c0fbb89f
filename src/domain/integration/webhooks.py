"""Outbound webhooks (Standard Webhooks 1.0): endpoints, one delivery per event, every attempt.

An admin registers an endpoint (``Webhook``) for some public event types. The outbox relay
fans each committed event of a subscribed type out into one ``WebhookDelivery`` per
endpoint (unique per endpoint and event, so a replay of the relay adds nothing) and the
workers POST it, recording each ``WebhookAttempt``. PostgreSQL holds the whole state;
Redis only carries the jobs, and a sweeper re-queues what it lost.

The endpoint's secret (``whsec_…``) is kept to sign with; the API shows it once, in the
answer to ``createWebhook``, and never again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from domain.jobs.services import JOB_FINISHED
from domain.sales.status import STATUS_CHANGED
from domain.shared.db import Base, one_of

MAX_URL_LENGTH = 2000


class DeliveryStatus(StrEnum):
    """A delivery's lifecycle: PENDING until it is DELIVERED (a 2xx), FAILED (refused for
    good: a 4xx, or the endpoint disabled) or GIVEN_UP (still failing after the last attempt)."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    GIVEN_UP = "GIVEN_UP"


class EventType(StrEnum):
    """The public event types an endpoint may subscribe to (docs/webhooks.md: Events)."""

    ORDER_STATUS_CHANGED = "order.status_changed"
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"


# domain_events types that may become a webhook event (webhooks_rules.public_type says which)
SOURCE_TYPES = frozenset({STATUS_CHANGED, JOB_FINISHED})


class Webhook(Base):
    """An endpoint and the event types it receives."""

    __tablename__ = "webhooks"
    __table_args__ = (
        CheckConstraint("cardinality(events) > 0", name="events_given"),
        CheckConstraint("active OR disabled_reason IS NOT NULL", name="disabled_has_reason"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(80)))
    description: Mapped[str | None] = mapped_column(Text)
    # the Standard Webhooks secret, whsec_ + base64; needed in clear to sign
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WebhookDelivery(Base):
    """One event for one endpoint: the message, where it stands, and when to try next."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
        CheckConstraint(one_of("status", DeliveryStatus), name="status_known"),
        # webhookDeliveries(webhookId), newest first
        Index("ix_webhook_deliveries_webhook_id", "webhook_id", "id"),
        # the sweeper's scan of what is due
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'PENDING'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    webhook_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhooks.id", ondelete="CASCADE"))
    # the domain_events row it announces
    event_id: Mapped[int] = mapped_column(BigInteger)
    # the webhook-id header: the same on every attempt, unique across databases
    message_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), server_default=text("gen_random_uuid()"))
    event_type: Mapped[str] = mapped_column(String(80))
    # the body's "timestamp" (when the event happened) and "data"
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10), server_default=text("'PENDING'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # a worker sending it holds it until then (webhooks_services.claim)
    lease_token: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One POST of a delivery: when, how long, and the HTTP status or the error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        UniqueConstraint("delivery_id", "number", name="uq_webhook_attempts_delivery_number"),
        CheckConstraint("(http_status IS NULL) <> (error IS NULL)", name="status_or_error"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer)
    http_status: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(Text)
