from __future__ import annotations

import strawberry

from api.inventory.inputs import BomInput, ItemInput, StockAdjustmentInput
from api.inventory.types import Item, ItemPayload, StockAdjustmentPayload
from api.permissions import Command, command
from api.relay import decode_id
from domain.identity.scopes import Scope
from domain.inventory import services


@strawberry.type
class InventoryMutation:
    @strawberry.mutation
    @command(Scope.INVENTORY_WRITE)
    async def create_item(self, cmd: Command, input: ItemInput) -> ItemPayload:
        row = await services.create_item(cmd.session, input.to_domain(), actor=cmd.actor)
        return ItemPayload(item=Item.from_row(row))

    @strawberry.mutation
    @command(Scope.INVENTORY_WRITE)
    async def set_bom(self, cmd: Command, item_id: strawberry.ID, input: BomInput) -> ItemPayload:
        pk = decode_id(item_id, "Item", "itemId")
        lines = input.domain_lines()
        row = await services.set_bom(cmd.session, pk, lines, input.output_quantity, actor=cmd.actor)
        return ItemPayload(item=Item.from_row(row))

    @strawberry.mutation
    @command(Scope.INVENTORY_WRITE)
    async def adjust_stock(
        self, cmd: Command, input: StockAdjustmentInput
    ) -> StockAdjustmentPayload:
        adjustment = input.to_domain()
        row = await services.adjust_stock(cmd.session, adjustment, actor=cmd.actor)
        return StockAdjustmentPayload(balance=row)
