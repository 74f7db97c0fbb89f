from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.relay import decode_id
from domain.purchasing.services import NewPurchaseLine, NewPurchaseOrder, ReceiptLine


@strawberry.input
class PurchaseOrderLineInput:
    item_id: strawberry.ID
    quantity: Decimal
    unit_cost: Decimal | None = None
    due_date: date

    def to_domain(self, index: int) -> NewPurchaseLine:
        return NewPurchaseLine(
            item_id=decode_id(self.item_id, "Item", "lines", str(index), "itemId"),
            quantity=self.quantity,
            unit_cost=self.unit_cost,
            due_date=self.due_date,
        )


@strawberry.input
class PurchaseOrderInput:
    supplier: str
    subcontract: bool | None = None
    lines: list[PurchaseOrderLineInput]

    def to_domain(self) -> NewPurchaseOrder:
        return NewPurchaseOrder(
            supplier=self.supplier,
            subcontract=bool(self.subcontract),
            lines=[line.to_domain(i) for i, line in enumerate(self.lines)],
        )


@strawberry.input
class ReceiptLineInput:
    item_id: strawberry.ID
    quantity: Decimal

    def to_domain(self, index: int) -> ReceiptLine:
        return ReceiptLine(
            item_id=decode_id(self.item_id, "Item", "lines", str(index), "itemId"),
            quantity=self.quantity,
        )
