"""DataLoaders of the purchasing context (suppliers, orders, lines, open quantity per item)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from strawberry.dataloader import DataLoader

from api.dataloaders import many_by, one_by
from domain.purchasing.models import OPEN_STATUSES, PurchaseOrder, PurchaseOrderLine, Supplier
from domain.shared.db import SessionMaker


class PurchasingLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.supplier = one_by(sm, Supplier, Supplier.id)
        self.order = one_by(sm, PurchaseOrder, PurchaseOrder.id)
        self.order_line = one_by(sm, PurchaseOrderLine, PurchaseOrderLine.id)
        self.order_lines = many_by(
            sm, PurchaseOrderLine, PurchaseOrderLine.order_id, PurchaseOrderLine.position
        )
        self.incoming = self._incoming(sm)

    @staticmethod
    def _incoming(sm: SessionMaker) -> DataLoader[int, Decimal]:
        """Per item: ordered and not yet received on open purchase orders."""

        async def load(item_ids: Sequence[int]) -> list[Decimal]:
            line = PurchaseOrderLine
            async with sm() as session:
                rows = await session.execute(
                    select(line.item_id, func.sum(line.quantity - line.received_quantity))
                    .join(PurchaseOrder, PurchaseOrder.id == line.order_id)
                    .where(line.item_id.in_(item_ids), PurchaseOrder.status.in_(OPEN_STATUSES))
                    .group_by(line.item_id)
                )
                totals = dict(rows.all())
            return [totals.get(item_id) or Decimal(0) for item_id in item_ids]

        return DataLoader(load_fn=load)
