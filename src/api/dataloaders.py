"""DataLoader factories: one SQL statement per batch, never one per row.

Each batch opens its own short session (carrying the request's ``api.fence.Fence``:
every statement here is narrowed to the rows the principal may see), so concurrently resolved fields never
share an AsyncSession. Reads fetch plain rows of the mapped table (attribute names
equal column names), not ORM instances: the graph only reads them, and building
identity-mapped objects was a large share of a page's time.

A leaf: it knows no bounded context. Each context's ``loaders.py`` builds its loaders
from these factories, and ``api.loaders.Loaders`` gathers them per request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Row, func, select
from sqlalchemy.orm import InstrumentedAttribute
from strawberry.dataloader import DataLoader

from domain.identity.fence import fenced
from domain.shared.db import Base, SessionMaker

M = TypeVar("M", bound=Base)
K = TypeVar("K")

# What a loader gives for the mapped class M: a plain Row of its table's columns. Typed as
# the union so mypy checks attribute names against M; the types' ``from_row`` take both,
# since mutations hand them the ORM instances their services return.
RowOf: TypeAlias = M | Row[Any]

# (parent id, filter values or None for all, page size, id after which the page starts)
PageKey = tuple[int, tuple[str, ...] | None, int, int | None]
CountKey = tuple[int, tuple[str, ...] | None]


def present(row: RowOf[M] | None) -> RowOf[M]:
    """The row a foreign key points to: the database guarantees it exists."""
    if row is None:
        raise LookupError("a row referenced by a foreign key is missing")
    return row


def present_all(rows: Sequence[RowOf[M] | None]) -> list[RowOf[M]]:
    """``present`` of each row (hot: stock levels and BOM lines of a page of items)."""
    found = [row for row in rows if row is not None]
    if len(found) != len(rows):
        raise LookupError("a row referenced by a foreign key is missing")
    return found


def one_by(
    sm: SessionMaker, entity: type[M], column: InstrumentedAttribute[K], *, cache: bool = True
) -> DataLoader[K, RowOf[M] | None]:
    """The row of ``entity`` whose ``column`` (unique) equals each key, or None."""
    table = entity.__table__

    async def load(keys: Sequence[K]) -> list[RowOf[M] | None]:
        async with sm() as session:
            rows = await session.execute(fenced(session, select(table).where(column.in_(keys)), table))
            found = {getattr(row, column.key): row for row in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load, cache=cache)


def many_by(
    sm: SessionMaker, entity: type[M], column: InstrumentedAttribute[K], *order: InstrumentedAttribute[Any]
) -> DataLoader[K, list[RowOf[M]]]:
    """The rows of ``entity`` whose ``column`` equals each key, in ``order``."""
    table = entity.__table__

    async def load(keys: Sequence[K]) -> list[list[RowOf[M]]]:
        async with sm() as session:
            stmt = fenced(session, select(table).where(column.in_(keys)).order_by(*order), table)
            groups: dict[K, list[RowOf[M]]] = defaultdict(list)
            for row in await session.execute(stmt):
                groups[getattr(row, column.key)].append(row)
        return [groups.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def pages_by(
    sm: SessionMaker,
    entity: type[M],
    parent: InstrumentedAttribute[int],
    filter_column: InstrumentedAttribute[Any] | None = None,
) -> DataLoader[PageKey, list[RowOf[M]]]:
    """Keyset pages (one row more than asked) of each parent's children, in id order.

    One statement per distinct (filter, size, after), whatever the number of parents:
    a list of customers with their orders costs the same as one customer.
    """
    table = entity.__table__
    parent_col = table.c[parent.key]
    filter_col = None if filter_column is None else table.c[filter_column.key]

    async def load(keys: Sequence[PageKey]) -> list[list[RowOf[M]]]:
        groups: dict[tuple[tuple[str, ...] | None, int, int | None], set[int]] = defaultdict(set)
        for parent_id, values, size, after in keys:
            groups[(values, size, after)].add(parent_id)
        pages: dict[PageKey, list[RowOf[M]]] = defaultdict(list)
        async with sm() as session:
            for (values, size, after), parents in groups.items():
                ranked = select(
                    table,
                    func.row_number().over(partition_by=parent_col, order_by=table.c.id).label("rank"),
                ).where(parent_col.in_(parents))
                ranked = fenced(session, ranked, table)
                if values is not None:
                    if filter_col is None:
                        raise ValueError(f"pages of {entity.__name__} have no filter column")
                    ranked = ranked.where(filter_col.in_(values))
                if after is not None:
                    ranked = ranked.where(table.c.id > after)
                inner = ranked.subquery()
                stmt = (
                    select(*(inner.c[c.name] for c in table.columns))
                    .where(inner.c.rank <= size + 1)
                    .order_by(inner.c[parent.key], inner.c.id)
                )
                for row in await session.execute(stmt):
                    pages[(getattr(row, parent.key), values, size, after)].append(row)
        return [pages.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def counts_by(
    sm: SessionMaker, parent: InstrumentedAttribute[int], filter_column: InstrumentedAttribute[Any] | None = None
) -> DataLoader[CountKey, int]:
    """How many children each parent has (``totalCount`` of a ``pages_by`` connection)."""

    async def load(keys: Sequence[CountKey]) -> list[int]:
        groups: dict[tuple[str, ...] | None, set[int]] = defaultdict(set)
        for parent_id, values in keys:
            groups[values].add(parent_id)
        counts: dict[CountKey, int] = {}
        async with sm() as session:
            for values, parents in groups.items():
                stmt = select(parent, func.count()).where(parent.in_(parents)).group_by(parent)
                stmt = fenced(session, stmt, parent.class_.__table__)
                if values is not None:
                    if filter_column is None:
                        raise ValueError(f"counts by {parent.key} have no filter column")
                    stmt = stmt.where(filter_column.in_(values))
                for parent_id, count in await session.execute(stmt):
                    counts[(parent_id, values)] = count
        return [counts.get(key, 0) for key in keys]

    return DataLoader(load_fn=load)
