"""DataLoaders of the costing context: roll-ups now (bomCost) and as last saved (rolledUpCost)."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from api.dataloaders import one_by
from domain.costing.models import CostRollup
from domain.costing.rollup import Breakdown
from domain.costing.tree import bom_costs
from domain.shared.db import SessionMaker


class CostingLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.rolled_up = one_by(sm, CostRollup, CostRollup.item_id)
        self.bom_cost = self._bom_cost(sm)

    @staticmethod
    def _bom_cost(sm: SessionMaker) -> DataLoader[int, Breakdown | None]:
        """``Item.bomCost`` of a batch of items: their trees in one statement, rolled up together."""

        async def load(item_ids: Sequence[int]) -> list[Breakdown | None]:
            async with sm() as session:
                return await bom_costs(session, item_ids)

        return DataLoader(load_fn=load)
