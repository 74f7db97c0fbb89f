from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import or_, select

from api.context import Info
from api.inventory.types import Item, ItemKind, Warehouse
from api.permissions import requires
from api.relay import Connection, lookup, paginate
from api.search import contains
from domain.identity.scopes import Scope
from domain.inventory.models import Item as ItemRow
from domain.inventory.models import Warehouse as WarehouseRow


@strawberry.type
class InventoryQuery:
    @strawberry.field(permission_classes=[requires(Scope.INVENTORY_READ)])
    async def item(
        self, info: Info, id: strawberry.ID | None = None, sku: str | None = None
    ) -> Item | None:
        row = await lookup(
            info, ItemRow, "Item", info.context.loaders.inventory.item, id=id, key_column=ItemRow.sku, key=sku,
        )
        return None if row is None else Item.from_row(row)

    @strawberry.field(permission_classes=[requires(Scope.INVENTORY_READ)])
    async def items(
        self, info: Info, first: int | None = None, after: str | None = None,
        search: str | None = None, kind: ItemKind | None = None,
        active: Annotated[bool | None, strawberry.argument(
            description="Only active (true) or inactive (false) items; null: all."
        )] = None,
    ) -> Connection[Item]:
        stmt = select(ItemRow.__table__)
        if search:
            pattern = contains(search)
            stmt = stmt.where(or_(ItemRow.sku.ilike(pattern), ItemRow.name.ilike(pattern)))
        if kind is not None:
            stmt = stmt.where(ItemRow.kind == kind.value)
        if active is not None:
            stmt = stmt.where(ItemRow.active.is_(active))
        return await paginate(info, stmt, ItemRow.id, Item.from_row, first=first, after=after,
                              search=bool(search))

    @strawberry.field(permission_classes=[requires(Scope.INVENTORY_READ)])
    async def warehouses(self, info: Info) -> list[Warehouse]:
        async with info.context.sessionmaker() as session:
            rows = (await session.execute(select(WarehouseRow).order_by(WarehouseRow.id))).scalars()
            return [Warehouse.from_row(row) for row in rows]
