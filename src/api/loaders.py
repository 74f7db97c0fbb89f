"""Per-request DataLoaders: one SQL statement per batch, never one per row.

Each batch opens its own short session, so concurrently resolved fields never
share an AsyncSession. Reads fetch plain rows of the mapped table (attribute names
equal column names), not ORM instances: the graph only reads them, and building
identity-mapped objects was a large share of a page's time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from domain.crm.models import Contact, Customer
from domain.integration.models import ExternalRef
from domain.inventory.models import Bom, BomLine, Item, StockBalance, Warehouse


def one_by(sm: async_sessionmaker, entity: Any, column: Any, *, cache: bool = True) -> DataLoader[Any, Any]:
    async def load(keys: Sequence[Hashable]) -> list[Any]:
        async with sm() as session:
            rows = await session.execute(select(entity.__table__).where(column.in_(keys)))
            found = {getattr(row, column.key): row for row in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load, cache=cache)


def many_by(
    sm: async_sessionmaker, entity: Any, column: Any, *order: Any
) -> DataLoader[Any, list[Any]]:
    async def load(keys: Sequence[Hashable]) -> list[list[Any]]:
        async with sm() as session:
            stmt = select(entity.__table__).where(column.in_(keys)).order_by(*order)
            groups: dict[Any, list[Any]] = defaultdict(list)
            for row in await session.execute(stmt):
                groups[getattr(row, column.key)].append(row)
        return [groups.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, sm: async_sessionmaker) -> None:
        self.customer = one_by(sm, Customer, Customer.id)
        self.contact = one_by(sm, Contact, Contact.id)
        self.contacts_by_customer = many_by(sm, Contact, Contact.customer_id, Contact.id)
        self.item = one_by(sm, Item, Item.id)
        self.bom = one_by(sm, Bom, Bom.item_id)
        self.bom_lines = many_by(sm, BomLine, BomLine.bom_item_id, BomLine.position)
        self.where_used = many_by(sm, BomLine, BomLine.component_id, BomLine.bom_item_id)
        self.stock_by_item = many_by(
            sm, StockBalance, StockBalance.item_id, StockBalance.warehouse_id
        )
        self.warehouse = one_by(sm, Warehouse, Warehouse.id)
        from api.inventory.atp import atp_inputs_loader

        self.atp = atp_inputs_loader(sm)
        self.external_refs = self._external_refs(sm)
        from api.sales.loaders import SalesLoaders

        self.sales = SalesLoaders(sm)
        from api.crm.pipeline_loaders import PipelineLoaders

        self.pipeline = PipelineLoaders(sm)
        from api.finance.loaders import FinanceLoaders
        from api.sales.fulfilment import FulfilmentLoaders

        self.finance = FinanceLoaders(sm)
        self.fulfilment = FulfilmentLoaders(sm)
        from api.purchasing.loaders import PurchasingLoaders

        self.purchasing = PurchasingLoaders(sm)
        from api.production.loaders import ProductionLoaders

        self.production = ProductionLoaders(sm)
        from api.planning.loaders import PlanningLoaders

        self.planning = PlanningLoaders(sm)

    @staticmethod
    def _external_refs(sm: async_sessionmaker) -> DataLoader[tuple[str, int], list[ExternalRef]]:
        async def load(keys: Sequence[tuple[str, int]]) -> list[list[ExternalRef]]:
            groups: dict[tuple[str, int], list[ExternalRef]] = defaultdict(list)
            by_type: dict[str, list[int]] = defaultdict(list)
            for entity_type, entity_id in keys:
                by_type[entity_type].append(entity_id)
            async with sm() as session:
                for entity_type, ids in by_type.items():
                    stmt = select(ExternalRef).where(
                        ExternalRef.entity_type == entity_type, ExternalRef.entity_id.in_(ids)
                    ).order_by(ExternalRef.id)
                    for row in (await session.execute(stmt)).scalars():
                        groups[(row.entity_type, row.entity_id)].append(row)
            return [groups.get(key, []) for key in keys]

        return DataLoader(load_fn=load)


# (parent id, filter values or None for all, page size, id after which the page starts)
PageKey = tuple[int, tuple[str, ...] | None, int, int | None]
CountKey = tuple[int, tuple[str, ...] | None]


def pages_by(
    sm: async_sessionmaker, entity: Any, parent: Any, filter_column: Any = None
) -> DataLoader[PageKey, list[Any]]:
    """Keyset pages (one row more than asked) of each parent's children, in id order.

    One statement per distinct (filter, size, after), whatever the number of parents:
    a list of customers with their orders costs the same as one customer.
    """
    table = entity.__table__
    parent_col = table.c[parent.key]

    async def load(keys: Sequence[PageKey]) -> list[list[Any]]:
        groups: dict[tuple[tuple[str, ...] | None, int, int | None], set[int]] = defaultdict(set)
        for parent_id, values, size, after in keys:
            groups[(values, size, after)].add(parent_id)
        pages: dict[PageKey, list[Any]] = defaultdict(list)
        async with sm() as session:
            for (values, size, after), parents in groups.items():
                ranked = select(
                    table,
                    func.row_number().over(partition_by=parent_col, order_by=table.c.id).label("rank"),
                ).where(parent_col.in_(parents))
                if values is not None:
                    ranked = ranked.where(table.c[filter_column.key].in_(values))
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
    sm: async_sessionmaker, entity: Any, parent: Any, filter_column: Any = None
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
                if values is not None:
                    stmt = stmt.where(filter_column.in_(values))
                for parent_id, count in await session.execute(stmt):
                    counts[(parent_id, values)] = count
        return [counts.get(key, 0) for key in keys]

    return DataLoader(load_fn=load)
