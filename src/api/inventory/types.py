from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.context import Info
from api.dataloaders import RowOf, present, present_all
from api.errors import UserError
from api.integration.types import ExternalRef
from api.permissions import visible_with
from api.relay import Node
from domain.identity.scopes import Scope
from domain.inventory import models as m
from domain.inventory.atp import promise
from domain.shared.errors import DomainError, ErrorCode
from domain.shared.money import cents

if TYPE_CHECKING:
    from api.costing.rollup_types import BomCost, RolledUpCost
    from api.purchasing.supplier_types import Supplier


@strawberry.enum
class ItemKind(Enum):
    FINISHED = "FINISHED"
    SEMI_FINISHED = "SEMI_FINISHED"
    RAW_MATERIAL = "RAW_MATERIAL"


@strawberry.enum
class Procurement(Enum):
    MAKE = "MAKE"
    BUY = "BUY"
    SUBCONTRACT = "SUBCONTRACT"


@strawberry.enum
class LotSizing(Enum):
    LOT_FOR_LOT = "LOT_FOR_LOT"
    FIXED_ORDER_QUANTITY = strawberry.enum_value(
        "FIXED_ORDER_QUANTITY",
        description=(
            "Every planned order is exactly fixedLotSize (several orders when needed; whole units "
            "for a countable unit of measure)."
        ),
    )
    MIN_MULTIPLE = strawberry.enum_value(
        "MIN_MULTIPLE",
        description="At least minOrderQuantity, rounded up to a multiple of lotMultiple.",
    )


@strawberry.type
class Warehouse(Node):
    code: str
    name: str
    is_default: bool = strawberry.field(
        description="Stock without a named warehouse goes here and is drawn from here first; exactly one is."
    )
    version: int = strawberry.field(description="Raised by every change; send it back as expectedVersion.")

    @classmethod
    def from_row(cls, row: RowOf[m.Warehouse]) -> Warehouse:
        return cls(pk=row.id, code=row.code, name=row.name, is_default=row.is_default, version=row.version)


@strawberry.type
class WarehousePayload:
    warehouse: Warehouse | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StockLevel:
    # The parent item and the warehouse come loaded with the level: a page of items
    # then resolves them without one awaited field per row.
    item_row: strawberry.Private[RowOf[m.Item]]
    warehouse_row: strawberry.Private[RowOf[m.Warehouse]]
    on_hand: Decimal
    reserved: Decimal

    @strawberry.field
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    @strawberry.field
    def item(self) -> Item:
        return Item.from_row(self.item_row)

    @strawberry.field
    def warehouse(self) -> Warehouse:
        return Warehouse.from_row(self.warehouse_row)

    @classmethod
    async def load(
        cls, info: Info, rows: list[RowOf[m.StockBalance]], item_row: RowOf[m.Item] | None = None
    ) -> list[StockLevel]:
        loaders = info.context.loaders.inventory
        warehouses = present_all(await loaders.warehouse.load_many([r.warehouse_id for r in rows]))
        items = [item_row] * len(rows) if item_row is not None else present_all(
            await loaders.item.load_many([r.item_id for r in rows])
        )
        return [
            cls(item_row=item, warehouse_row=warehouse, on_hand=r.on_hand, reserved=r.reserved)
            for r, item, warehouse in zip(rows, items, warehouses, strict=True)
        ]


@strawberry.type
class BomLine:
    component_row: strawberry.Private[RowOf[m.Item]]
    quantity: Decimal
    scrap_rate: Decimal = strawberry.field(description="Component loss on top of quantity, 0-1.")

    @strawberry.field
    def component(self) -> Item:
        return Item.from_row(self.component_row)


@strawberry.type
class Bom:
    item_pk: strawberry.Private[int]
    output_quantity: Decimal = strawberry.field(
        description="Quantity of the parent that the lines below produce (usually 1)."
    )
    version: int = strawberry.field(
        description="Raised by every setBom (separate from the item's); send it back as expectedVersion."
    )

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.item_pk)))

    @strawberry.field
    async def lines(self, info: Info) -> list[BomLine]:
        loaders = info.context.loaders.inventory
        rows = await loaders.bom_lines.load(self.item_pk)
        components = present_all(await loaders.item.load_many([r.component_id for r in rows]))
        return [
            BomLine(component_row=c, quantity=r.quantity, scrap_rate=r.scrap_rate)
            for r, c in zip(rows, components, strict=True)
        ]


@strawberry.type
class Item(Node):
    sku: str
    name: str
    uom: str
    kind: ItemKind
    procurement: Procurement
    lead_time_days: int
    safety_stock: Decimal
    scrap_rate: Decimal = strawberry.field(
        description="Expected loss when this item is produced, 0-1 (0.05 = 5%)."
    )
    lot_sizing: LotSizing
    fixed_lot_size: Decimal | None
    min_order_quantity: Decimal | None
    lot_multiple: Decimal | None
    list_price: Decimal
    active: bool = strawberry.field(
        description="An inactive item is refused on new quotes, orders and purchase orders; "
        "it is still planned for the demand that exists."
    )
    version: int = strawberry.field(description="Raised by every change; send it back as expectedVersion.")
    row: strawberry.Private[RowOf[m.Item]]

    @strawberry.field(description="Where this item also lives in an external system, and how its writeback stands.")
    async def external_refs(self, info: Info) -> list[ExternalRef]:
        rows = await info.context.loaders.integration.external_refs.load(("Item", self.pk))
        return [ExternalRef.from_row(row) for row in rows]

    @strawberry.field(description=(
        "Supplier that firmed planned purchases of this item are ordered from. Null unless the viewer "
        "may read purchasing (suppliers are purchasing's, like Query.node of a Supplier)."
    ))
    @visible_with(Scope.PURCHASING_READ)
    async def default_supplier(
        self, info: Info
    ) -> Annotated[Supplier, strawberry.lazy("api.purchasing.supplier_types")] | None:
        from api.purchasing.supplier_types import Supplier

        if self.row.default_supplier_id is None:
            return None
        row = await info.context.loaders.purchasing.supplier.load(self.row.default_supplier_id)
        return None if row is None else Supplier.from_row(row)

    @strawberry.field(description="Null unless the viewer may see costs.")
    @visible_with(Scope.COSTING_READ)
    def standard_cost(self, info: Info) -> Decimal | None:
        return self.row.standard_cost

    @strawberry.field(description=(
        "Moving-average unit cost of the stock (over all warehouses; kept to 10 decimals): each receipt "
        "blends in at its cost, everything that leaves goes at the average of that moment. Null before "
        "any stock arrived with a cost, or unless the viewer may see costs."
    ))
    @visible_with(Scope.COSTING_READ)
    async def average_cost(self, info: Info) -> Decimal | None:
        row = await info.context.loaders.inventory.valuation.load(self.pk)
        return None if row is None else row.average_cost

    @strawberry.field(description=(
        "Value of the stock on hand over all warehouses, in cents: the sum of the values of its stock "
        "movements. Null unless the viewer may see costs."
    ))
    @visible_with(Scope.COSTING_READ)
    async def stock_value(self, info: Info) -> Decimal | None:
        row = await info.context.loaders.inventory.valuation.load(self.pk)
        return cents(row.value if row is not None else Decimal(0))

    @strawberry.field(description=(
        "Material cost of one unit from its BOM, rolled up now from current costs. Null when the item "
        "has no BOM (or its BOM is on a cycle), or unless the viewer may see costs."
    ))
    @visible_with(Scope.COSTING_READ)
    async def bom_cost(self, info: Info) -> Annotated[BomCost, strawberry.lazy("api.costing.rollup_types")] | None:
        from api.costing.rollup_types import BomCost

        return await BomCost.load(info, self.pk)

    @strawberry.field(description=(
        "Unit cost saved by the last cost roll-up job (runCostRollup). Null before a roll-up, for an "
        "item without a BOM, or unless the viewer may see costs."
    ))
    @visible_with(Scope.COSTING_READ)
    async def rolled_up_cost(
        self, info: Info
    ) -> Annotated[RolledUpCost, strawberry.lazy("api.costing.rollup_types")] | None:
        from api.costing.rollup_types import RolledUpCost

        return await RolledUpCost.load(info, self.pk)

    @strawberry.field
    async def bom(self, info: Info) -> Bom | None:
        row = await info.context.loaders.inventory.bom.load(self.pk)
        return None if row is None else Bom(
            item_pk=self.pk, output_quantity=row.output_quantity, version=row.version
        )

    @strawberry.field(description="Items whose BOM uses this item.")
    async def where_used(self, info: Info) -> list[Item]:
        lines = await info.context.loaders.inventory.where_used.load(self.pk)
        parents = present_all(await info.context.loaders.inventory.item.load_many([line.bom_item_id for line in lines]))
        return [Item.from_row(row) for row in parents]

    @strawberry.field
    async def stock(self, info: Info) -> list[StockLevel]:
        rows = await info.context.loaders.inventory.stock_by_item.load(self.pk)
        return await StockLevel.load(info, rows, item_row=self.row)

    @strawberry.field
    async def on_hand(self, info: Info) -> Decimal:
        return sum((r.on_hand for r in await info.context.loaders.inventory.stock_by_item.load(self.pk)),
                   Decimal(0))

    @strawberry.field
    async def reserved(self, info: Info) -> Decimal:
        return sum((r.reserved for r in await info.context.loaders.inventory.stock_by_item.load(self.pk)),
                   Decimal(0))

    @strawberry.field
    async def available(self, info: Info) -> Decimal:
        rows = await info.context.loaders.inventory.stock_by_item.load(self.pk)
        return sum((r.on_hand - r.reserved for r in rows), Decimal(0))

    @strawberry.field(description="Open purchase and work order quantities not yet received.")
    async def incoming(self, info: Info) -> Decimal:
        loaders = info.context.loaders
        purchased, produced = await asyncio.gather(
            loaders.purchasing.incoming.load(self.pk), loaders.production.incoming.load(self.pk)
        )
        return purchased + produced

    @strawberry.field(
        description=(
            "Earliest date on which `quantity` more can be promised, from stock, scheduled "
            "receipts after earlier promises, and lead time; a made item beyond those from "
            "what its components allow (capable to promise)."
        )
    )
    async def available_to_promise(self, info: Info, quantity: Decimal) -> AtpResult:
        return await resolve_atp(info, self.pk, quantity)

    @classmethod
    def from_row(cls, row: RowOf[m.Item]) -> Item:
        return cls(
            pk=row.id, sku=row.sku, name=row.name, uom=row.uom, kind=ItemKind(row.kind),
            procurement=Procurement(row.procurement), lead_time_days=row.lead_time_days,
            safety_stock=row.safety_stock, scrap_rate=row.scrap_rate,
            lot_sizing=LotSizing(row.lot_sizing), fixed_lot_size=row.fixed_lot_size,
            min_order_quantity=row.min_order_quantity, lot_multiple=row.lot_multiple,
            list_price=row.list_price, active=row.active, version=row.version, row=row,
        )


@strawberry.type
class ItemPayload:
    item: Item | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _adjusted_stock(root: StockAdjustmentPayload, info: Info) -> StockLevel | None:
    # after the command committed: the loaders read on connections of their own
    if root.balance is None:
        return None
    return (await StockLevel.load(info, [root.balance]))[0]


@strawberry.type
class StockAdjustmentPayload:
    balance: strawberry.Private[RowOf[m.StockBalance] | None] = None  # the new balance row
    stock: StockLevel | None = strawberry.field(resolver=_adjusted_stock)
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _stock_level(info: Info, balance: RowOf[m.StockBalance] | None) -> StockLevel | None:
    # after the command committed: the loaders read on connections of their own
    return None if balance is None else (await StockLevel.load(info, [balance]))[0]


async def _transferred_from(root: TransferStockPayload, info: Info) -> StockLevel | None:
    return await _stock_level(info, root.source)


async def _transferred_to(root: TransferStockPayload, info: Info) -> StockLevel | None:
    return await _stock_level(info, root.destination)


@strawberry.type
class TransferStockPayload:
    source: strawberry.Private[RowOf[m.StockBalance] | None] = None  # the new balances
    destination: strawberry.Private[RowOf[m.StockBalance] | None] = None
    from_: StockLevel | None = strawberry.field(
        name="from", resolver=_transferred_from, description="The source warehouse's stock after the transfer."
    )
    to: StockLevel | None = strawberry.field(
        resolver=_transferred_to, description="The destination warehouse's stock after the transfer."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


# ``Item.availableToPromise``: the same capable-to-promise function order confirmation uses.
@strawberry.type
class AtpResult:
    quantity: Decimal
    available_now: Decimal = strawberry.field(description="Quantity that can be promised from stock now.")
    date: date
    limited_by_id: strawberry.Private[int | None] = None

    @strawberry.field(
        description="The item whose availability sets the date: this item (its receipts or lead time) "
        "or a component at any depth of its BOM; null when stock covers the quantity."
    )
    async def limited_by(
        self, info: Info
    ) -> Item | None:
        if self.limited_by_id is None:
            return None
        row = await info.context.loaders.inventory.item.load(self.limited_by_id)
        return None if row is None else Item.from_row(row)


async def resolve_atp(info: Info, item_id: int, quantity: Decimal) -> AtpResult:
    if not quantity.is_finite() or quantity <= 0:
        raise DomainError.one(ErrorCode.INVALID, "must be greater than 0", ["quantity"])
    items = await info.context.loaders.inventory.atp.load(item_id)
    if items is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "item not found")
    result = promise(item_id, quantity, items, date.today())
    return AtpResult(
        quantity=quantity, available_now=result.available_now, date=result.date, limited_by_id=result.limited_by
    )
