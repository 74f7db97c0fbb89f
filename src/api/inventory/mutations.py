from __future__ import annotations

import strawberry

from api.inventory.inputs import (
    BomInput,
    ItemInput,
    ItemUpdateInput,
    StockAdjustmentInput,
    StockTransferInput,
    WarehouseInput,
    WarehouseUpdateInput,
)
from api.inventory.types import (
    Item,
    ItemPayload,
    StockAdjustmentPayload,
    TransferStockPayload,
    Warehouse,
    WarehousePayload,
)
from api.permissions import Command, command
from api.relay import decode_id
from domain.identity.scopes import Scope
from domain.inventory import services, transfers, warehouses
from domain.shared.names import camel


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(description="Needs inventory:write, and costing:write for standardCost.")
    @command(Scope.INVENTORY_WRITE)
    async def create_item(self, cmd: Command, input: ItemInput) -> ItemPayload:
        if input.standard_cost is not None:
            cmd.require(Scope.COSTING_WRITE, "standardCost")
        row = await services.create_item(cmd.session, input.to_domain(), actor=cmd.actor)
        return ItemPayload(item=Item.from_row(row))

    @strawberry.mutation(description=(
        "Changes the fields given (not the SKU). Needs inventory:write, and costing:write for "
        "standardCost (costing may change the standard cost alone)."
    ))
    @command(Scope.INVENTORY_WRITE, Scope.COSTING_WRITE)
    async def update_item(self, cmd: Command, id: strawberry.ID, input: ItemUpdateInput) -> ItemPayload:
        pk = decode_id(id, "Item", "id")
        changes = input.changes()
        for key in changes:
            cmd.require(Scope.COSTING_WRITE if key == "standard_cost" else Scope.INVENTORY_WRITE, camel(key))
        row = await services.update_item(
            cmd.session, pk, changes, actor=cmd.actor, expected_version=input.expected_version
        )
        return ItemPayload(item=Item.from_row(row))

    @strawberry.mutation(description="Replaces the item's BOM; every call raises Bom.version.")
    @command(Scope.INVENTORY_WRITE)
    async def set_bom(self, cmd: Command, item_id: strawberry.ID, input: BomInput) -> ItemPayload:
        pk = decode_id(item_id, "Item", "itemId")
        lines = input.domain_lines()
        row = await services.set_bom(
            cmd.session, pk, lines, input.output_quantity, actor=cmd.actor,
            expected_version=input.expected_version,
        )
        return ItemPayload(item=Item.from_row(row))

    @strawberry.mutation(description="Needs inventory:write, and costing:write for unitCost.")
    @command(Scope.INVENTORY_WRITE)
    async def adjust_stock(
        self, cmd: Command, input: StockAdjustmentInput
    ) -> StockAdjustmentPayload:
        if input.unit_cost is not None:
            cmd.require(Scope.COSTING_WRITE, "unitCost")
        adjustment = input.to_domain()
        row = await services.adjust_stock(cmd.session, adjustment, actor=cmd.actor)
        return StockAdjustmentPayload(balance=row)

    @strawberry.mutation(description=(
        "Moves free stock (on hand less reserved) of an item between two warehouses: two ledger "
        "moves with the reason and one reference, in one transaction."
    ))
    @command(Scope.INVENTORY_WRITE)
    async def transfer_stock(self, cmd: Command, input: StockTransferInput) -> TransferStockPayload:
        source, destination = await transfers.transfer_stock(cmd.session, input.to_domain(), actor=cmd.actor)
        return TransferStockPayload(source=source, destination=destination)

    @strawberry.mutation(description="The first warehouse is the default whatever isDefault says.")
    @command(Scope.INVENTORY_WRITE)
    async def create_warehouse(self, cmd: Command, input: WarehouseInput) -> WarehousePayload:
        row = await warehouses.create_warehouse(
            cmd.session, input.code, input.name, is_default=input.is_default, actor=cmd.actor
        )
        return WarehousePayload(warehouse=Warehouse.from_row(row))

    @strawberry.mutation(description="Changes the fields given; the code never changes.")
    @command(Scope.INVENTORY_WRITE)
    async def update_warehouse(
        self, cmd: Command, id: strawberry.ID, input: WarehouseUpdateInput
    ) -> WarehousePayload:
        pk = decode_id(id, "Warehouse", "id")
        row = await warehouses.update_warehouse(
            cmd.session, pk, input.changes(), actor=cmd.actor, expected_version=input.expected_version
        )
        return WarehousePayload(warehouse=Warehouse.from_row(row))
