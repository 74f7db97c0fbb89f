"""DataLoaders of the production context (work orders, components, open quantity per item)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from strawberry.dataloader import DataLoader

from api.dataloaders import many_by, one_by
from domain.production.models import OPEN_STATUSES, WorkOrder, WorkOrderComponent
from domain.shared.db import SessionMaker


class ProductionLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.work_order = one_by(sm, WorkOrder, WorkOrder.id)
        self.components = many_by(
            sm, WorkOrderComponent, WorkOrderComponent.work_order_id, WorkOrderComponent.position
        )
        self.by_sales_order = many_by(sm, WorkOrder, WorkOrder.sales_order_id, WorkOrder.id)
        self.incoming = self._incoming(sm)

    @staticmethod
    def _incoming(sm: SessionMaker) -> DataLoader[int, Decimal]:
        """Per item: still to be completed on open work orders."""

        async def load(item_ids: Sequence[int]) -> list[Decimal]:
            async with sm() as session:
                rows = await session.execute(
                    select(WorkOrder.item_id,
                           func.sum(WorkOrder.quantity - WorkOrder.completed_quantity))
                    .where(WorkOrder.item_id.in_(item_ids), WorkOrder.status.in_(OPEN_STATUSES))
                    .group_by(WorkOrder.item_id)
                )
                totals = dict(rows.all())
            return [totals.get(item_id) or Decimal(0) for item_id in item_ids]

        return DataLoader(load_fn=load)
