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

from sqlalchemy import select
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
