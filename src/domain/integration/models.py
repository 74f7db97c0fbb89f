from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Identity, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base


class ExternalRef(Base):
    """Where a record also lives in an external system, and how its writeback stands."""

    __tablename__ = "external_refs"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'SYNCED', 'FAILED')", name="status_known"),
        Index("ix_external_refs_entity", "entity_type", "entity_id"),
        # the partner fence: a system's customers (domain.identity.fence)
        Index("ix_external_refs_system", "system", "entity_type", "entity_id"),
        Index(
            "uq_external_refs_system_external_id",
            "system", "entity_type", "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        # one writeback row per (ERP, record): domain.integration.erp.sync
        Index("uq_external_refs_writeback", "system", "entity_type", "entity_id",
              unique=True, postgresql_where=text("writeback")),
        # the sweeper's scan
        Index("ix_external_refs_due", "next_attempt_at", postgresql_where=text("writeback AND status = 'PENDING'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), server_default=text("'PENDING'"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None]
    # True: erpgraph writes this record to the system (the ERP writeback); False: a key a
    # partner system pushed in (upsertCustomerByExternalRef), which the partner fence reads.
    writeback: Mapped[bool] = mapped_column(server_default=text("false"))
    # Writeback scheduling: each (re)scheduling takes the next number, and a job runs only
    # for the number it was queued with; due at next_attempt_at (a lease while a job runs).
    sync_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None]
    # the domain event that last scheduled it: a replayed older event schedules nothing
    last_event_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
