"""Optimistic concurrency for records people edit: a version raised by every change.

A versioned table has a ``version`` column that SQLAlchemy manages as the mapper's
``version_id_col``: every UPDATE of the row sets ``version = version + 1`` and checks
the old value in its WHERE clause. An update command locks the row
(:func:`lock_versioned`), compares the version the client read (``expectedVersion``)
and refuses with ``CONFLICT`` when they differ, so of twenty parallel updates made
against one version exactly one succeeds and nothing of the others is written.

A change that only touches the record's children (a customer's contact, a BOM's
lines) raises the parent's version with :func:`touch`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from domain.shared.errors import DomainError, ErrorCode

EXPECTED_VERSION = "expectedVersion"


class Versioned:
    """Mixin: a ``version`` starting at 1, raised by SQLAlchemy on every UPDATE."""

    version: Mapped[int] = mapped_column(server_default=text("1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"eager_defaults": True, "version_id_col": cls.version}


V = TypeVar("V", bound=Versioned)


def check_version(row: Versioned, expected: int | None, what: str) -> None:
    """CONFLICT on ``expectedVersion`` when the client read another version than the row's."""
    if expected is not None and row.version != expected:
        raise DomainError.one(
            ErrorCode.CONFLICT,
            f"{what} was changed meanwhile: it is at version {row.version}, not {expected}; "
            "reload it and apply your change again",
            [EXPECTED_VERSION],
        )


async def lock_versioned(
    session: AsyncSession, model: type[V], pk: object, expected: int | None, what: str,
    field: str = "id",
) -> V:
    """The row locked for update, checked against ``expected``; NOT_FOUND on ``field``."""
    row = await session.get(model, pk, with_for_update=True, populate_existing=True)
    if row is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, f"{what} not found", [field])
    check_version(row, expected, what)
    return row


def touch(row: Versioned) -> None:
    """Raise the version of a record whose children changed (the flush writes it)."""
    row.version = row.version + 1
