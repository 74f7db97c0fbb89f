"""DataLoaders of the costing context: roll-ups now (bomCost) and as last saved
(rolledUpCost), order figures for margins, customers' orders in a period, and the actual
cost of work orders with their run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, select
from strawberry.dataloader import DataLoader

from api.dataloaders import one_by
from domain.costing.margin_reads import customer_order_ids, order_figures_by_id
from domain.costing.margins import Figures
from domain.costing.models import CostingRun, CostRollup, WorkOrderCost
from domain.costing.rollup import Breakdown
from domain.costing.tree import bom_costs
from domain.shared.db import SessionMaker


class CostingLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.order_figures = self._order_figures(sm)
        self.customer_orders = self._customer_orders(sm)
        self.work_order_cost = self._work_order_cost(sm)
        self.rolled_up = one_by(sm, CostRollup, CostRollup.item_id)
        self.bom_cost = self._bom_cost(sm)

    @staticmethod
    def _bom_cost(sm: SessionMaker) -> DataLoader[int, Breakdown | None]:
        """``Item.bomCost`` of a batch of items: their trees in one statement, rolled up together."""

        async def load(item_ids: Sequence[int]) -> list[Breakdown | None]:
            async with sm() as session:
                return await bom_costs(session, item_ids)

        return DataLoader(load_fn=load)

    @staticmethod
    def _order_figures(sm: SessionMaker) -> DataLoader[int, Figures]:
        async def load(order_ids: Sequence[int]) -> list[Figures]:
            async with sm() as session:
                found = await order_figures_by_id(session, order_ids)
            return [found[order_id] for order_id in order_ids]

        return DataLoader(load_fn=load)

    @staticmethod
    def _customer_orders(sm: SessionMaker) -> DataLoader[tuple[int, date | None, date | None], list[int]]:
        """A customer's order ids placed in a period: key (customer id, from, to)."""

        async def load(keys: Sequence[tuple[int, date | None, date | None]]) -> list[list[int]]:
            by_period: dict[tuple[date | None, date | None], list[int]] = defaultdict(list)
            for customer_id, start, end in keys:
                by_period[start, end].append(customer_id)
            found: dict[tuple[int, date | None, date | None], list[int]] = {}
            async with sm() as session:
                for (start, end), customer_ids in by_period.items():
                    orders = await customer_order_ids(session, customer_ids, start, end)
                    found.update({(c, start, end): ids for c, ids in orders.items()})
            return [found[key] for key in keys]

        return DataLoader(load_fn=load)

    @staticmethod
    def _work_order_cost(sm: SessionMaker) -> DataLoader[int, Row[Any] | None]:
        """Per work order id: its cost row joined with the run that computed it, or None.

        Read only through a work order (whose own read is fenced), so it needs no fence.
        """

        async def load(keys: Sequence[int]) -> list[Row[Any] | None]:
            async with sm() as session:
                rows = await session.execute(
                    select(WorkOrderCost.__table__, CostingRun.period_start, CostingRun.period_end,
                           CostingRun.allocation_basis, CostingRun.job_id)
                    .join(CostingRun, CostingRun.id == WorkOrderCost.costing_run_id)
                    .where(WorkOrderCost.work_order_id.in_(keys))
                )
                found = {row.work_order_id: row for row in rows}
            return [found.get(key) for key in keys]

        return DataLoader(load_fn=load)
