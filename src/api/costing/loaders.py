"""DataLoaders of the costing context: the actual cost of work orders, with their run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from strawberry.dataloader import DataLoader

from domain.costing.models import CostingRun, WorkOrderCost
from domain.shared.db import SessionMaker


class CostingLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.work_order_cost = self._work_order_cost(sm)

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
