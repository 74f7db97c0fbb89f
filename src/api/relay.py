"""Relay conventions: opaque global ids, the Node interface, keyset connections."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute
from strawberry.dataloader import DataLoader

from api.context import Info
from api.dataloaders import CountKey, M, PageKey, RowOf
from api.limits import check_page_size
from api.search import search_slot
from domain.shared.errors import DomainError, ErrorCode, Problem

# the id rule lives in the domain (webhook payloads use it too); the API's modules import it from here
from domain.shared.ids import from_global_id as from_global_id
from domain.shared.ids import to_global_id as to_global_id

T = TypeVar("T")
NodeT = TypeVar("NodeT")


def decode_id(global_id: str, expected: str, *field: str) -> int:
    """Primary key of a global id of type ``expected``; a DomainError names ``field``."""
    decoded = from_global_id(global_id)
    if decoded is None:
        raise DomainError.one(ErrorCode.INVALID, "is not a valid id", field or None)
    type_name, pk = decoded
    if type_name != expected:
        raise DomainError.one(ErrorCode.NOT_FOUND, f"{expected} not found", field or None)
    return pk


def decode_ids(global_ids: Sequence[str], expected: str, field: str) -> list[int]:
    """``decode_id`` of each id of a list argument; one DomainError names every bad one."""
    pks: list[int] = []
    problems: list[Problem] = []
    for i, global_id in enumerate(global_ids):
        try:
            pks.append(decode_id(global_id, expected, field, str(i)))
        except DomainError as error:
            problems.extend(error.problems)
    if problems:
        raise DomainError(problems)
    return pks


async def existing_id(
    global_id: str, expected: str, field: str, loader: DataLoader[int, Any]
) -> int:
    """``decode_id`` of a filter argument, and NOT_FOUND unless ``loader`` finds the row:
    a list filtered by an unknown parent is an error, not an empty page."""
    pk = decode_id(global_id, expected, field)
    if await loader.load(pk) is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, f"{expected} not found", [field])
    return pk


@strawberry.interface
class Node:
    pk: strawberry.Private[int]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(self.__strawberry_definition__.name, self.pk))  # type: ignore[attr-defined]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()


async def lookup(
    info: Info,
    entity: type[M],
    type_name: str,
    loader: DataLoader[int, RowOf[M] | None],
    *,
    id: str | None,
    key_column: InstrumentedAttribute[str],
    key: str | None,
) -> RowOf[M] | None:
    """The row behind ``id`` (a global id of ``type_name``) or else behind a unique key."""
    if id is not None:
        decoded = from_global_id(id)
        if decoded is None or decoded[0] != type_name:
            return None
        return await loader.load(decoded[1])
    if key is None:
        return None
    table = entity.__table__
    stmt = info.context.fence.apply(select(table).where(key_column == key), table)
    async with info.context.sessionmaker() as session:
        row: RowOf[M] | None = (await session.execute(stmt)).first()
    return row


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:{pk}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    decoded = from_global_id(cursor)
    if decoded is None or decoded[0] != "cursor":
        raise DomainError.one(ErrorCode.INVALID, "is not a valid cursor", ["after"])
    return decoded[1]


def page_of(
    rows: Sequence[Any],
    size: int,
    after_pk: int | None,
    convert: Callable[[Any], NodeT],
    count: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    """A connection from a keyset page fetched with one row more than ``size``."""
    edges = [Edge(cursor=encode_cursor(row.id), node=convert(row)) for row in rows[:size]]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=after_pk is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=count,
    )


async def paginate(
    info: Info,
    stmt: Select[Any],
    pk_column: InstrumentedAttribute[int],
    convert: Callable[[Any], NodeT],
    *,
    first: int | None,
    after: str | None,
    search: bool = False,
) -> Connection[NodeT]:
    """Keyset page over ``stmt`` (rows of one entity) in primary-key order.

    ``totalCount`` is counted only when the client selects it. ``search``: ``stmt``
    filters by a text search, so its statements take one of the process's search slots.
    """
    size = check_page_size(first)
    after_pk = decode_cursor(after)
    stmt = info.context.fence.apply(stmt, pk_column.class_.__table__)
    page_stmt = stmt.order_by(pk_column).limit(size + 1)
    if after_pk is not None:
        page_stmt = page_stmt.where(pk_column > after_pk)
    sessionmaker = info.context.sessionmaker
    slot = partial(search_slot, info.context) if search else contextlib.nullcontext
    async with slot(), sessionmaker() as session:
        rows: Sequence[Any] = (await session.execute(page_stmt)).all()

    async def count() -> int:
        async with slot(), sessionmaker() as session:
            total = await session.execute(
                select(func.count()).select_from(stmt.order_by(None).subquery())
            )
            return int(total.scalar_one())

    return page_of(rows, size, after_pk, convert, count)


async def child_page(
    pages: DataLoader[PageKey, list[RowOf[M]]],
    counts: DataLoader[CountKey, int],
    parent_id: int,
    convert: Callable[[RowOf[M]], NodeT],
    *,
    first: int | None,
    after: str | None,
    values: tuple[str, ...] | None = None,
) -> Connection[NodeT]:
    """One parent's page of children through ``api.dataloaders.pages_by``/``counts_by`` loaders,
    so a list of parents with their connections costs no more statements than one."""
    size, after_pk = check_page_size(first), decode_cursor(after)
    rows = await pages.load((parent_id, values, size, after_pk))

    async def count() -> int:
        return await counts.load((parent_id, values))

    return page_of(rows, size, after_pk, convert, count)
