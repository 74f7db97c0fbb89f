"""Idempotency keys: the stored first answer to a request, per token and key.

The state of every ``Idempotency-Key`` lives in one row (``idempotency_keys``), so every
API process sees the same claims and a crash leaves a trace to decide on:

- :func:`claim` takes a key in its own short transaction (``INSERT ... ON CONFLICT``):
  the winner gets an :class:`Attempt`, everyone else the row as it stands (:class:`Seen`).
  A row older than :data:`KEY_TTL` is replaced in the same statement.
- :func:`mark_effect` runs inside the mutation's own transaction: the row says
  ``effect_committed`` exactly when the mutation's work committed.
- :func:`take_over` gives a RUNNING row whose process died (older than the lease, and no
  effect committed) to a new attempt; :func:`finish` stores the answer; :func:`release`
  drops a claim whose request failed, unless its effect committed.

Every write names the attempt (a random id) that owns the row, so an attempt whose claim
was taken over can neither store its answer nor commit its effect: exactly one effect.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Index,
    Interval,
    LargeBinary,
    SmallInteger,
    String,
    delete,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, SessionMaker
from domain.shared.errors import DomainError, ErrorCode

# How long a stored answer is kept and replayed (the draft and Stripe: 24 hours).
KEY_TTL = timedelta(hours=24)


class KeyState(enum.StrEnum):
    RUNNING = "RUNNING"
    DONE = "DONE"


class IdempotencyKey(Base):
    """One token's use of one Idempotency-Key, and the answer it got."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        CheckConstraint("state IN ('RUNNING', 'DONE')", name="state_known"),
        CheckConstraint("state = 'RUNNING' OR status_code IS NOT NULL", name="done_has_answer"),
        Index("ix_idempotency_keys_created_at", "created_at"),  # the purge of expired keys
    )

    # SHA-256 of the bearer token (api.identity hash_token): never the token itself
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of the request body: the same key with another body is refused
    fingerprint: Mapped[str] = mapped_column(String(64))
    # the attempt holding the row; a take-over gives it a new one
    attempt: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    state: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    content_type: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    effect_committed: Mapped[bool] = mapped_column(server_default="false")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]


@dataclass(frozen=True, slots=True)
class Claim:
    """What a request holding a key carries into its mutations (the ASGI scope's state)."""

    owner: str
    key: str
    attempt: uuid.UUID


@dataclass(frozen=True, slots=True)
class Seen:
    """A key another attempt holds or held, as the row stands (times by the database clock)."""

    fingerprint: str
    attempt: uuid.UUID
    state: KeyState
    status_code: int | None
    content_type: str | None
    body: bytes | None
    effect_committed: bool
    age: timedelta


def _held(claim: Claim) -> tuple[ColumnElement[bool], ...]:
    """The row as this attempt holds it."""
    return (IdempotencyKey.owner == claim.owner, IdempotencyKey.key == claim.key,
            IdempotencyKey.attempt == claim.attempt)


async def claim(sessionmaker: SessionMaker, owner: str, key: str, fingerprint: str) -> Claim | Seen | None:
    """Take ``key`` for a new attempt, or say who has it.

    A :class:`Claim` when the key was free or its row older than :data:`KEY_TTL` (replaced);
    a :class:`Seen` when another attempt holds it; None when the row vanished between
    the two statements (a failed attempt released it): call again.
    """
    attempt = uuid.uuid4()
    fresh = {"fingerprint": fingerprint, "attempt": attempt, "state": KeyState.RUNNING.value,
             "status_code": None, "content_type": None, "body": None, "effect_committed": False,
             "created_at": func.now(), "finished_at": None}
    statement = (
        insert(IdempotencyKey).values(owner=owner, key=key, **fresh)
        .on_conflict_do_update(
            index_elements=[IdempotencyKey.owner, IdempotencyKey.key], set_=fresh,
            where=IdempotencyKey.created_at < func.now() - KEY_TTL,
        )
        .returning(IdempotencyKey.attempt)
    )
    async with sessionmaker.begin() as session:
        if (await session.execute(statement)).scalar_one_or_none() is not None:
            return Claim(owner, key, attempt)
        row = (await session.execute(
            select(IdempotencyKey.fingerprint, IdempotencyKey.attempt, IdempotencyKey.state, IdempotencyKey.status_code,
                   IdempotencyKey.content_type, IdempotencyKey.body, IdempotencyKey.effect_committed,
                   type_coerce(func.now() - IdempotencyKey.created_at, Interval()))
            .where(IdempotencyKey.owner == owner, IdempotencyKey.key == key)
        )).one_or_none()
    if row is None:
        return None
    return Seen(row[0], row[1], KeyState(row[2]), row[3], row[4], row[5], row[6], row[7])


async def take_over(sessionmaker: SessionMaker, owner: str, key: str, seen: Seen, lease: timedelta) -> Claim | None:
    """The claim of a RUNNING row whose attempt died before its effect committed, or None.

    The row must still be the one seen (same attempt, no effect, older than ``lease``):
    a dead attempt's mutation that commits meanwhile holds the row's lock, and this
    update then finds ``effect_committed`` set and takes nothing.
    """
    attempt = uuid.uuid4()
    async with sessionmaker.begin() as session:
        taken = (await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.owner == owner, IdempotencyKey.key == key, IdempotencyKey.attempt == seen.attempt,
                   IdempotencyKey.state == KeyState.RUNNING.value, IdempotencyKey.effect_committed.is_(False),
                   IdempotencyKey.created_at < func.now() - lease)
            .values(attempt=attempt, created_at=func.now())
            .returning(IdempotencyKey.attempt)
        )).scalar_one_or_none()
    return Claim(owner, key, attempt) if taken is not None else None


async def mark_effect(session: AsyncSession, claim: Claim) -> None:
    """In the mutation's transaction: its effect commits with this mark, or not at all.

    CONFLICT (the mutation rolls back) when the claim is no longer this attempt's: a
    retry took it over after the lease, and that retry's run is the one that counts.
    """
    held = (await session.execute(
        update(IdempotencyKey)
        .where(*_held(claim),
               IdempotencyKey.state == KeyState.RUNNING.value)
        .values(effect_committed=True)
        .returning(IdempotencyKey.attempt)
    )).scalar_one_or_none()
    if held is None:
        raise DomainError.one(
            ErrorCode.CONFLICT, "this request's Idempotency-Key was taken over by a retry; nothing was changed"
        )


async def finish(
    sessionmaker: SessionMaker, claim: Claim, status_code: int, content_type: str | None, body: bytes,
) -> bool:
    """Store the answer to replay; False when the claim was taken over (nothing stored)."""
    async with sessionmaker.begin() as session:
        done = (await session.execute(
            update(IdempotencyKey)
            .where(*_held(claim))
            .values(state=KeyState.DONE.value, status_code=status_code, content_type=content_type,
                    body=body, finished_at=func.now())
            .returning(IdempotencyKey.attempt)
        )).scalar_one_or_none()
    return done is not None


async def release(sessionmaker: SessionMaker, claim: Claim) -> bool:
    """Drop the claim of a failed attempt so the client may retry; True if dropped.

    A claim whose effect committed is kept (RUNNING): running the request again would
    apply it twice, so the key answers 409 instead (see api.idempotency).
    """
    async with sessionmaker.begin() as session:
        result = await session.execute(
            delete(IdempotencyKey)
            .where(*_held(claim),
                   IdempotencyKey.effect_committed.is_(False))
            .returning(IdempotencyKey.attempt)
        )
        return result.scalar_one_or_none() is not None


async def purge_expired(session: AsyncSession) -> int:
    """Delete the rows older than :data:`KEY_TTL` (their keys are free again); how many."""
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < func.now() - KEY_TTL).returning(IdempotencyKey.key)
    )
    return len(result.all())
