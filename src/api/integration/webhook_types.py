"""Outbound webhooks in the graph: endpoints, deliveries and attempts (never the secret)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.errors import UserError
from api.relay import Node
from domain.integration.webhooks import DeliveryStatus, EventType
from domain.integration.webhooks import Webhook as WebhookRow
from domain.integration.webhooks import WebhookAttempt as AttemptRow
from domain.integration.webhooks import WebhookDelivery as DeliveryRow
from domain.integration.webhooks_services import message_id

# the domain's enum, registered as the schema's WebhookDeliveryStatus
strawberry.enum(
    DeliveryStatus, name="WebhookDeliveryStatus",
    description=(
        "PENDING until DELIVERED (a 2xx answer), FAILED (refused for good: a 4xx other than 429, or the "
        "endpoint disabled) or GIVEN_UP (no success after ERPGRAPH_WEBHOOK_MAX_ATTEMPTS attempts)."
    ),
)
EVENT_NAMES = ", ".join(each.value for each in EventType)


@strawberry.input
class WebhookInput:
    url: str = strawberry.field(description="Absolute http or https URL, at most 2000 characters.")
    events: list[str] = strawberry.field(description=f"Event types to receive (at least one): {EVENT_NAMES}.")
    description: str | None = None


@strawberry.type(description="An endpoint that receives signed events (Standard Webhooks; docs/webhooks.md).")
class Webhook(Node):
    url: str
    events: list[str]
    description: str | None
    active: bool = strawberry.field(description="False once disabled: no more deliveries are made to it.")
    disabled_reason: str | None = strawberry.field(description="Why it was disabled (a 410 answer).")
    created_at: datetime

    @classmethod
    def from_row(cls, row: WebhookRow) -> Webhook:
        return cls(pk=row.id, url=row.url, events=list(row.events), description=row.description,
                   active=row.active, disabled_reason=row.disabled_reason, created_at=row.created_at)


@strawberry.type(description="One POST of a delivery.")
class WebhookAttempt:
    number: int = strawberry.field(description="1 for the first attempt.")
    attempted_at: datetime
    duration_ms: int
    http_status: int | None = strawberry.field(description="The endpoint's answer; null when none came.")
    error: str | None = strawberry.field(description="Why no answer came (timeout, connection error).")

    @classmethod
    def from_row(cls, row: AttemptRow) -> WebhookAttempt:
        return cls(number=row.number, attempted_at=row.attempted_at, duration_ms=row.duration_ms,
                   http_status=row.http_status, error=row.error)


@strawberry.type(description="One event sent to one endpoint, with every attempt.")
class WebhookDelivery(Node):
    event_id: str = strawberry.field(
        description="The webhook-id header: the same on every attempt; receivers drop one they have seen."
    )
    event_type: str
    occurred_at: datetime = strawberry.field(description="When the event happened (the body's timestamp).")
    status: DeliveryStatus
    next_attempt_at: datetime | None = strawberry.field(description="When a PENDING delivery is tried next.")
    created_at: datetime
    finished_at: datetime | None
    attempts: list[WebhookAttempt] = strawberry.field(description="Oldest first.")

    @classmethod
    def from_row(cls, row: DeliveryRow, attempts: list[AttemptRow]) -> WebhookDelivery:
        pending = row.status == DeliveryStatus.PENDING
        return cls(
            pk=row.id, event_id=message_id(row.message_id), event_type=row.event_type,
            occurred_at=row.occurred_at, status=DeliveryStatus(row.status),
            next_attempt_at=row.next_attempt_at if pending else None, created_at=row.created_at,
            finished_at=row.finished_at, attempts=[WebhookAttempt.from_row(each) for each in attempts],
        )


@strawberry.type
class CreateWebhookPayload:
    webhook: Webhook | None = None
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (whsec_...): shown here only, never again. Verify deliveries with it.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteWebhookPayload:
    webhook: Webhook | None = strawberry.field(
        default=None, description="The deleted endpoint as it was; its deliveries are deleted with it."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
