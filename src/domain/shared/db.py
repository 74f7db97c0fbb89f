"""Database plumbing shared by every bounded context."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias

from sqlalchemy import DateTime, MetaData, Numeric, func
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A unique index named with this prefix keeps at most one row in a state (the default
# warehouse), it is not a key: a command that breaks it lost a race and must retry
# (CONFLICT), it did not pick a taken code (DUPLICATE).
SINGLE_ROW = "one_"

# Quantities and rates carry 6 decimals, unit prices/costs 4, money amounts 2.
Quantity = Numeric(20, 6)
UnitAmount = Numeric(18, 4)
Money = Numeric(18, 2)
Percent = Numeric(9, 4)
# Averages and stock values stay unrounded (domain.inventory.valuation.PLACES); cents are for documents.
ExactAmount = Numeric(32, 10)


def one_of(column: str, values: Iterable[str]) -> str:
    """The SQL of a CHECK that ``column`` holds one of ``values`` (a tuple or a StrEnum)."""
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Server-set columns (updated_at, defaults) come back with the INSERT/UPDATE's
    # RETURNING instead of a refresh query after each flush.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - read by the mapper, never mutated
    type_annotation_map: ClassVar[dict[Any, Any]] = {Decimal: Quantity, datetime: DateTime(timezone=True)}


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


def async_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and point them at the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")


def asyncpg_dsn(database_url: str) -> str:
    """The database URL as plain asyncpg accepts it (no SQLAlchemy driver suffix)."""
    url = make_url(async_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def make_engine(url: str, pool_size: int = 10, statement_timeout_ms: int | None = None) -> AsyncEngine:
    """The engine; ``statement_timeout_ms`` (0: none, None: the server's default) bounds every
    statement of its connections: PostgreSQL cancels it and the caller gets a ``TIMEOUT``."""
    connect_args: dict[str, Any] = {}
    if statement_timeout_ms is not None:
        connect_args["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
    return create_async_engine(
        async_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False,
        connect_args=connect_args,
    )


# PostgreSQL's SQLSTATE for a statement cancelled (by statement_timeout here).
QUERY_CANCELED = "57014"
STATEMENT_TIMEOUT_MESSAGE = (
    "the request took longer than the database allows one statement (statement timeout); "
    "narrow it (a shorter search, a smaller page) or retry later"
)


def is_statement_timeout(error: BaseException) -> bool:
    """Whether ``error`` (a SQLAlchemy error or what it wraps) is a cancelled statement."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) == QUERY_CANCELED:
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


# The session factory type, spelled once: what `make_sessionmaker` returns and everyone takes.
SessionMaker: TypeAlias = async_sessionmaker[AsyncSession]


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, expire_on_commit=False)
