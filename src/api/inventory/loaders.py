"""DataLoaders of the inventory context: items, BOMs, warehouses, stock, available-to-promise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from strawberry.dataloader import DataLoader

from api.dataloaders import many_by, one_by
from domain.inventory.atp import AtpInputs
from domain.inventory.models import Bom, BomLine, Item, ItemValuation, StockBalance, Warehouse
from domain.sales.atp_inputs import load_atp_inputs
from domain.shared.db import SessionMaker


class InventoryLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.item = one_by(sm, Item, Item.id)
        self.bom = one_by(sm, Bom, Bom.item_id)
        self.bom_lines = many_by(sm, BomLine, BomLine.bom_item_id, BomLine.position)
        self.where_used = many_by(sm, BomLine, BomLine.component_id, BomLine.bom_item_id)
        self.stock_by_item = many_by(sm, StockBalance, StockBalance.item_id, StockBalance.warehouse_id)
        self.warehouse = one_by(sm, Warehouse, Warehouse.id)
        self.valuation = one_by(sm, ItemValuation, ItemValuation.item_id)
        self.atp = self._atp(sm)

    @staticmethod
    def _atp(sm: SessionMaker) -> DataLoader[int, Mapping[int, AtpInputs] | None]:
        """What ``Item.availableToPromise`` needs per item: the same inputs order
        confirmation uses, one mapping for the batch (None for an unknown item)."""

        async def load(item_ids: Sequence[int]) -> list[Mapping[int, AtpInputs] | None]:
            async with sm() as session:
                found = await load_atp_inputs(session, item_ids)
            return [found if item_id in found else None for item_id in item_ids]

        return DataLoader(load_fn=load)
