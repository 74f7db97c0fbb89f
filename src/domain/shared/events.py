"""The domain events table: every state change appends one row in its own transaction.

A sequence value is taken at insert, not at commit, so paging by ``id`` alone can
skip an event whose transaction commits late. Readers (the relay in
``workers.outbox``) therefore read only rows whose ``txid`` is older than every
transaction still in flight and page by ``(txid, id)``; the index below serves that.
A statement trigger (migration 0002) sends ``NOTIFY domain_events`` to wake the relay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Identity, Index, String, Table, bindparam, func, insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from domain.shared.db import Base


class Xid8(UserDefinedType[int]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


class DomainEvent(Base):
    __tablename__ = "domain_events"
    __table_args__ = (
        Index("ix_domain_events_txid_id", "txid", "id"),
        Index("ix_domain_events_entity", "entity_type", "entity_id", "id"),
        # serves `orderStatusChanged(customerId:)` replays (payload @> {"customerId": ...})
        Index(
            "ix_domain_events_status_payload",
            "payload",
            postgresql_using="gin",
            postgresql_ops={"payload": "jsonb_path_ops"},
            postgresql_where=text("type = 'order.status_changed'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    type: Mapped[str] = mapped_column(String(80), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    actor: Mapped[str | None] = mapped_column(String(120))
    txid: Mapped[int] = mapped_column(Xid8, server_default=text("pg_current_xact_id()"))
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())


_APPEND = insert(cast(Table, DomainEvent.__table__)).values(
    type=bindparam("p_type"),
    entity_type=bindparam("p_entity_type"),
    entity_id=bindparam("p_entity_id"),
    payload=bindparam("p_payload", type_=JSONB),
    actor=bindparam("p_actor"),
)


async def record_event(
    session: AsyncSession,
    type: str,
    entity_type: str,
    entity_id: int,
    payload: dict[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """Append an event in the caller's transaction (never after commit)."""
    await session.execute(
        _APPEND,
        {
            "p_type": type,
            "p_entity_type": entity_type,
            "p_entity_id": entity_id,
            "p_payload": payload or {},
            "p_actor": actor,
        },
    )


class EventlessTransaction(Base):
    """A long write transaction that promises to append no event (an MRP save).

    The relay publishes only events older than every transaction in flight, so one long
    writer would hold every event back for as long as it runs. A transaction listed
    here (by an autocommitted insert from another connection, while it runs) is left
    out of that horizon: it can never add an event below it. Rows of finished
    transactions are harmless and are purged by the next registration.
    """

    __tablename__ = "eventless_transactions"

    txid: Mapped[int] = mapped_column(Xid8, primary_key=True)
    registered_at: Mapped[datetime] = mapped_column(server_default=func.now())


# The event horizon: every event of a transaction below it is committed or never will be.
# It is pg_snapshot_xmin of the statement's snapshot, leaving out transactions declared
# eventless. Readers put it in the same statement as their read (one snapshot).
EVENT_HORIZON = """(
    SELECT coalesce(
        (SELECT min(x.xid) FROM pg_snapshot_xip(snap.s) AS x(xid)
         WHERE x.xid NOT IN (SELECT e.txid FROM eventless_transactions AS e)),
        pg_snapshot_xmax(snap.s))
    FROM (SELECT pg_current_snapshot() AS s) AS snap
)"""

DECLARE_EVENTLESS = (
    "WITH purged AS (DELETE FROM eventless_transactions"
    " WHERE txid < pg_snapshot_xmin(pg_current_snapshot()))"
    " INSERT INTO eventless_transactions (txid) VALUES ($1::text::xid8) ON CONFLICT DO NOTHING"
)
