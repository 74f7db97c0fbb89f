from __future__ import annotations

import strawberry

from api.context import Info
from api.inventory.inputs import BomInput, ItemInput, StockAdjustmentInput
from api.inventory.types import Item, ItemPayload, StockAdjustmentPayload, StockLevel
from api.permissions import command
from api.relay import decode_id
from domain.identity.scopes import Scope
from domain.inventory import services


@strawberry.type
class InventoryMutation:
    @strawberry.mutation
    @command(Scope.INVENTORY_WRITE)
    async def create_item(self, info: Info, input: ItemInput) -> ItemPayload:
        async with info.context.sessionmaker.begin() as session:
            row = await services.create_item(session, input.to_domain(), actor=info.context.viewer.name)
        return ItemPayload(item=Item.from_row(row))

    @strawberry.mutation
    @command(Scope.INVENTORY_WRITE)
    async def set_bom(self, info: Info, item_id: strawberry.ID, input: BomInput) -> ItemPayload:
        pk = decode_id(item_id, "Item", "itemId")
        lines = input.domain_lines()
        async with info.context.sessionmaker.begin() as session:
            row = await services.set_bom(
                session, pk, lines, input.output_quantity, actor=info.context.viewer.name
            )
        return ItemPayload(item=Item.from_row(row))

    @strawberry.mutation
    @command(Scope.INVENTORY_WRITE)
    async def adjust_stock(
        self, info: Info, input: StockAdjustmentInput
    ) -> StockAdjustmentPayload:
        adjustment = input.to_domain()
        async with info.context.sessionmaker.begin() as session:
            row = await services.adjust_stock(session, adjustment, actor=info.context.viewer.name)
        levels = await StockLevel.load(info, [row])
        return StockAdjustmentPayload(stock=levels[0])
