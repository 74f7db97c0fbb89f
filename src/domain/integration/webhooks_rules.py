"""The rules of outbound webhooks as plain functions: what an endpoint may be, which
events become which public type with which data, the body, and what an answer means."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from domain.integration.webhooks import MAX_URL_LENGTH, EventType
from domain.jobs.models import JobStatus
from domain.jobs.services import JOB_FINISHED
from domain.sales.status import STATUS_CHANGED
from domain.shared.errors import Problems
from domain.shared.ids import to_global_id

# Standard Webhooks: a secret of 24 to 64 random bytes, base64, prefixed whsec_
SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"
MAX_DESCRIPTION_LENGTH = 500


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def check_endpoint(url: str, events: Sequence[str], description: str | None) -> None:
    """Refuse (``INVALID``, every problem at once) a URL that is not absolute http(s) or is
    too long, an empty list of events or an unknown one, a description that is too long."""
    problems = Problems()
    if len(url) > MAX_URL_LENGTH:
        problems.invalid(f"must be at most {MAX_URL_LENGTH} characters", "url")
    else:
        try:
            parts = urlsplit(url)
            absolute = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - raises on a port that is not a number or out of range
        except ValueError:
            absolute = False
        if not absolute:
            problems.invalid("must be an absolute http or https URL", "url")
    if not events:
        problems.invalid("name at least one event", "events")
    known = {each.value for each in EventType}
    for i, name in enumerate(events):
        if name not in known:
            problems.invalid(f"unknown event {name!r}; known: {', '.join(sorted(known))}", "events", str(i))
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        problems.invalid(f"must be at most {MAX_DESCRIPTION_LENGTH} characters", "description")
    problems.raise_if_any()


def public_type(source_type: str, payload: Mapping[str, Any]) -> EventType | None:
    """The public event a ``domain_events`` row is, if any."""
    if source_type == STATUS_CHANGED:
        return EventType.ORDER_STATUS_CHANGED
    if source_type == JOB_FINISHED:
        return EventType.JOB_COMPLETED if payload.get("status") == JobStatus.SUCCEEDED else EventType.JOB_FAILED
    return None


def event_data(
    event_type: EventType, entity_id: int, payload: Mapping[str, Any], order_number: str | None = None
) -> dict[str, Any]:
    """The body's ``data``: the event's payload with global ids (docs/webhooks.md: Payloads)."""
    if event_type is EventType.ORDER_STATUS_CHANGED:
        customer_id = payload.get("customerId")
        return {
            **payload,
            "orderId": to_global_id("SalesOrder", entity_id),
            "orderNumber": order_number,
            "customerId": to_global_id("Customer", customer_id) if customer_id is not None else None,
        }
    return {
        "jobId": to_global_id("Job", entity_id),
        "kind": payload.get("kind"),
        "status": payload.get("status"),
        "message": payload.get("message"),
        "error": payload.get("error"),
    }


def body(event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> str:
    """The JSON body, Standard Webhooks' ``{"type", "timestamp", "data"}``; the same on every attempt."""
    return json.dumps(
        {"type": event_type, "timestamp": occurred_at.astimezone(UTC).isoformat(), "data": data},
        separators=(",", ":"), ensure_ascii=False, sort_keys=True,
    )


class Outcome(StrEnum):
    DELIVERED = "DELIVERED"
    RETRY = "RETRY"  # 5xx, 429, a timeout or a connection error: try again later
    REFUSED = "REFUSED"  # any other answer: trying again would not change it
    GONE = "GONE"  # 410: the receiver asks for no more deliveries


def outcome(http_status: int | None) -> Outcome:
    """What an answer means; ``None`` is no answer (timeout, connection error)."""
    if http_status is None or http_status == 429 or http_status >= 500:
        return Outcome.RETRY
    if 200 <= http_status < 300:
        return Outcome.DELIVERED
    if http_status == 410:
        return Outcome.GONE
    return Outcome.REFUSED
