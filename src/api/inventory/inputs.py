from __future__ import annotations

from decimal import Decimal

import strawberry

from api.edits import expected_version_field, given
from api.inventory.types import ItemKind, LotSizing, Procurement
from api.relay import decode_id
from domain.inventory.services import NewBomLine, NewItem, StockAdjustment
from domain.inventory.transfers import StockTransfer


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
class ItemUpdateInput:
    """Only the fields given change (by createItem's rules); an explicit null clears an optional field."""

    name: str | None = strawberry.UNSET
    uom: str | None = strawberry.UNSET
    kind: ItemKind | None = strawberry.UNSET
    procurement: Procurement | None = strawberry.UNSET
    lead_time_days: int | None = strawberry.UNSET
    safety_stock: Decimal | None = strawberry.UNSET
    scrap_rate: Decimal | None = strawberry.UNSET
    lot_sizing: LotSizing | None = strawberry.UNSET
    fixed_lot_size: Decimal | None = strawberry.UNSET
    min_order_quantity: Decimal | None = strawberry.UNSET
    lot_multiple: Decimal | None = strawberry.UNSET
    list_price: Decimal | None = strawberry.UNSET
    standard_cost: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Needs costing:write."
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="False: refused on new quotes, orders and purchase orders; still planned for existing demand.",
    )
    default_supplier_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Where firmed planned purchases go; null clears it."
    )
    expected_version: int | None = expected_version_field()

    def changes(self) -> dict[str, object]:
        found = {key: value.value if isinstance(value, (ItemKind, Procurement, LotSizing)) else value
                 for key, value in given(self).items()}
        if isinstance(self.default_supplier_id, str):  # not UNSET, not null
            found["default_supplier_id"] = decode_id(self.default_supplier_id, "Supplier", "defaultSupplierId")
        return found


@strawberry.input
class BomLineInput:
    component_id: strawberry.ID
    quantity: Decimal
    scrap_rate: Decimal | None = None


@strawberry.input
class BomInput:
    lines: list[BomLineInput]
    output_quantity: Decimal | None = None
    expected_version: int | None = expected_version_field(
        "The BOM's version you read (Bom.version): a stale one is refused with CONFLICT."
    )

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
        default=None,
        description="Unit cost of stock added (valuation); ignored for decreases. Needs costing:write.",
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


@strawberry.input
class StockTransferInput:
    item_id: strawberry.ID
    from_warehouse_id: strawberry.ID
    to_warehouse_id: strawberry.ID
    quantity: Decimal = strawberry.field(description="Free stock (on hand less reserved) to move; above 0.")
    reason: str

    def to_domain(self) -> StockTransfer:
        return StockTransfer(
            item_id=decode_id(self.item_id, "Item", "itemId"),
            from_warehouse_id=decode_id(self.from_warehouse_id, "Warehouse", "fromWarehouseId"),
            to_warehouse_id=decode_id(self.to_warehouse_id, "Warehouse", "toWarehouseId"),
            quantity=self.quantity,
            reason=self.reason,
        )


@strawberry.input
class WarehouseInput:
    code: str
    name: str
    is_default: bool = strawberry.field(
        default=False,
        description="Make it the default (the previous one stops being it); the first warehouse always is.",
    )


@strawberry.input
class WarehouseUpdateInput:
    """Only the fields given change; the code is the key and never changes."""

    name: str | None = strawberry.UNSET
    is_default: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="true makes it the default (the previous one stops being it); the default cannot be "
        "set false: make another warehouse the default.",
    )
    expected_version: int | None = expected_version_field()

    def changes(self) -> dict[str, object]:
        return given(self)
