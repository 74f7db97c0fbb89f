from __future__ import annotations

from decimal import Decimal

import strawberry

from api.inventory.types import ItemKind, LotSizing, Procurement
from api.relay import decode_id
from domain.inventory.services import NewBomLine, NewItem, StockAdjustment


@strawberry.input
class ItemInput:
    sku: str
    name: str
    kind: ItemKind
    procurement: Procurement
    uom: str | None = None
    lead_time_days: int | None = None
    safety_stock: Decimal | None = None
    scrap_rate: Decimal | None = None
    lot_sizing: LotSizing | None = None
    fixed_lot_size: Decimal | None = None
    min_order_quantity: Decimal | None = None
    lot_multiple: Decimal | None = None
    list_price: Decimal | None = None
    standard_cost: Decimal | None = None
    default_supplier_id: strawberry.ID | None = strawberry.field(
        default=None, description="Supplier that firmed planned purchases of this item are ordered from."
    )

    def to_domain(self) -> NewItem:
        values = vars(self) | {
            "kind": self.kind.value,
            "procurement": self.procurement.value,
            "lot_sizing": self.lot_sizing.value if self.lot_sizing else None,
            "default_supplier_id": None if self.default_supplier_id is None
            else decode_id(self.default_supplier_id, "Supplier", "defaultSupplierId"),
        }
        return NewItem(**values)


@strawberry.input
class BomLineInput:
    component_id: strawberry.ID
    quantity: Decimal
    scrap_rate: Decimal | None = None


@strawberry.input
class BomInput:
    lines: list[BomLineInput]
    output_quantity: Decimal | None = None

    def domain_lines(self) -> list[NewBomLine]:
        return [
            NewBomLine(
                component_id=decode_id(line.component_id, "Item", "lines", str(i), "componentId"),
                quantity=line.quantity,
                scrap_rate=line.scrap_rate,
            )
            for i, line in enumerate(self.lines)
        ]


@strawberry.input
class StockAdjustmentInput:
    item_id: strawberry.ID
    quantity: Decimal = strawberry.field(description="Signed change of on-hand stock.")
    reason: str
    warehouse_id: strawberry.ID | None = None
    unit_cost: Decimal | None = strawberry.field(
        default=None, description="Unit cost of stock added (valuation); ignored for decreases."
    )

    def to_domain(self) -> StockAdjustment:
        return StockAdjustment(
            item_id=decode_id(self.item_id, "Item", "itemId"),
            warehouse_id=(
                decode_id(self.warehouse_id, "Warehouse", "warehouseId")
                if self.warehouse_id is not None else None
            ),
            quantity=self.quantity,
            unit_cost=self.unit_cost,
            reason=self.reason,
        )
