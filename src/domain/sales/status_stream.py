"""Order status changes as a stream: positions, cursors, and replay from ``domain_events``.

An event's place in the stream is its relay position ``(txid, id)``, not its id: ids
are taken at insert, so a transaction that commits late can leave an event with a
lower id behind one already read. Replay therefore reads, like the relay in
``workers.outbox``, only rows whose writing transaction is older than every
transaction still in flight, in ``(txid, id)`` order: below that horizon the set of
rows is final, so "everything after my cursor" has no holes. Events of one order are
in commit order because ``change_status`` callers hold the order's row lock.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.sales.status import STATUS_CHANGED
from domain.shared.errors import DomainError, ErrorCode
from domain.shared.events import EVENT_HORIZON

_CURSOR_PREFIX = "event:"
_MAX_TXID = 2**64
_MAX_ID = 2**63
REPLAY_PAGE = 500


class EventPosition(NamedTuple):
    """Where an event sits in the stream: its writing transaction, then its id."""

    txid: int
    id: int


def encode_cursor(position: EventPosition) -> str:
    """The opaque cursor of a position (``after`` accepts it back)."""
    raw = f"{_CURSOR_PREFIX}{position.txid}:{position.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str, *field: str) -> EventPosition:
    """The position of a cursor; a DomainError (``INVALID``) naming ``field`` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError(cursor)
        txid_text, sep, id_text = raw[len(_CURSOR_PREFIX):].partition(":")
        if not sep or not (txid_text.isdigit() and id_text.isdigit()):
            raise ValueError(cursor)
        position = EventPosition(int(txid_text), int(id_text))
    except (binascii.Error, UnicodeError, ValueError):
        raise DomainError.one(ErrorCode.INVALID, "is not a valid cursor", field or None) from None
    if position.txid >= _MAX_TXID or position.id >= _MAX_ID:
        raise DomainError.one(ErrorCode.INVALID, "is not a valid cursor", field or None)
    return position


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One ``order.status_changed`` event."""

    position: EventPosition
    order_id: int
    customer_id: int | None
    status: str
    previous_status: str | None
    reason: str | None
    occurred_at: datetime

    @property
    def cursor(self) -> str:
        return encode_cursor(self.position)

    @classmethod
    def from_event(
        cls, position: EventPosition, order_id: int, payload: Mapping[str, Any], occurred_at: datetime
    ) -> StatusChange:
        customer_id = payload.get("customerId")
        return cls(
            position=position,
            order_id=order_id,
            customer_id=int(customer_id) if customer_id is not None else None,
            status=payload["status"],
            previous_status=payload.get("previousStatus"),
            reason=payload.get("reason"),
            occurred_at=occurred_at,
        )

    def matches(self, order_id: int | None, customer_id: int | None) -> bool:
        return (order_id is None or self.order_id == order_id) and (
            customer_id is None or self.customer_id == customer_id
        )


# The horizon and the rows come from one statement snapshot (see the relay docstring).
_REPLAY = """
    SELECT id, txid, entity_id, payload, occurred_at
    FROM domain_events
    WHERE type = :type
      AND txid < {horizon}
      AND (txid, id) > (CAST(:txid AS xid8), CAST(:id AS bigint))
      {filters}
    ORDER BY txid, id
    LIMIT :limit
"""


async def read_final(
    session: AsyncSession,
    after: EventPosition,
    *,
    order_id: int | None = None,
    customer_id: int | None = None,
    limit: int = REPLAY_PAGE,
) -> list[StatusChange]:
    """Up to ``limit`` final status changes after ``after``, in stream order."""
    filters = []
    params: dict[str, Any] = {"type": STATUS_CHANGED, "txid": after.txid, "id": after.id, "limit": limit}
    if order_id is not None:
        filters.append("AND entity_type = 'SalesOrder' AND entity_id = :order_id")
        params["order_id"] = order_id
    if customer_id is not None:
        filters.append("AND payload @> CAST(:customer AS jsonb)")
        params["customer"] = json.dumps({"customerId": customer_id})
    stmt = text(_REPLAY.format(horizon=EVENT_HORIZON, filters=" ".join(filters)))
    rows = (await session.execute(stmt, params)).all()
    return [
        StatusChange.from_event(EventPosition(row.txid, row.id), row.entity_id, row.payload, row.occurred_at)
        for row in rows
    ]


async def histories(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[StatusChange]]:
    """Every committed status change of each order, oldest first (``statusHistory``).

    Reads what this session's snapshot sees, horizon or not: history is a
    snapshot, not a stream to resume from. One statement for any number of orders.
    """
    stmt = text(
        """
        SELECT id, txid, entity_id, payload, occurred_at
        FROM domain_events
        WHERE entity_type = 'SalesOrder' AND entity_id = ANY(:order_ids) AND type = :type
        ORDER BY entity_id, txid, id
        """
    )
    result: dict[int, list[StatusChange]] = {order_id: [] for order_id in order_ids}
    for row in await session.execute(stmt, {"order_ids": list(order_ids), "type": STATUS_CHANGED}):
        result[row.entity_id].append(
            StatusChange.from_event(EventPosition(row.txid, row.id), row.entity_id, row.payload, row.occurred_at)
        )
    return result
