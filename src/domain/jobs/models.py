"""A job row per unit of background work; arq carries it, this table is its truth.

The API inserts the row (QUEUED) with a ``job.queued`` event in the same transaction,
and the outbox relay queues the arq job (``services.arq_job_id``) once it committed;
the worker moves it to RUNNING, reports progress and a heartbeat, and finishes it
SUCCEEDED or FAILED. Only one job of an *exclusive* kind (MRP) may be QUEUED or
RUNNING at a time: a partial unique index enforces it whatever the API does.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Float, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, one_of


class JobStatus(StrEnum):
    """A job's lifecycle (the schema's JobStatus)."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED)
# kinds of which at most one job may be active at a time
EXCLUSIVE_KINDS = ("MRP",)



class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(one_of("status", JobStatus), name="status_known"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        Index(
            "uq_jobs_one_active_exclusive",
            "kind",
            unique=True,
            postgresql_where=text(
                f"{one_of('status', ACTIVE_STATUSES)} AND {one_of('kind', EXCLUSIVE_KINDS)}"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'QUEUED'"))
    progress: Mapped[float] = mapped_column(Float, server_default=text("0"))
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # set with every progress report; a RUNNING job whose heartbeat is old lost its worker
    heartbeat_at: Mapped[datetime | None]
