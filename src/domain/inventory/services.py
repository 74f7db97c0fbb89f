"""Inventory use cases: items, bills of materials, warehouses and the stock ledger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory import ledger
from domain.inventory.availability import stock_freed
from domain.inventory.models import (
    ITEM_KINDS,
    LOT_SIZINGS,
    PROCUREMENTS,
    Bom,
    BomLine,
    Item,
    Warehouse,
)
from domain.inventory.warehouses import create_warehouse as create_warehouse
from domain.inventory.warehouses import default_warehouse_id as default_warehouse_id
from domain.purchasing.suppliers import usable_supplier
from domain.shared.edits import check_changes
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.limits import check_line_count
from domain.shared.names import camel
from domain.shared.numbers import check_decimal, check_text
from domain.shared.versions import EXPECTED_VERSION, check_version, lock_versioned

# BOM edits are rare; serialising them makes the cycle check immune to two
# concurrent edits that would only form a cycle together.
BOM_LOCK_KEY = 0x424F4D  # "BOM"


@dataclass
class NewItem:
    sku: str
    name: str
    kind: str
    procurement: str
    uom: str | None = None
    lead_time_days: int | None = None
    safety_stock: Decimal | None = None
    scrap_rate: Decimal | None = None
    lot_sizing: str | None = None
    fixed_lot_size: Decimal | None = None
    min_order_quantity: Decimal | None = None
    lot_multiple: Decimal | None = None
    list_price: Decimal | None = None
    standard_cost: Decimal | None = None
    default_supplier_id: int | None = None


@dataclass
class NewBomLine:
    component_id: int
    quantity: Decimal
    scrap_rate: Decimal | None = None


@dataclass
class StockAdjustment:
    item_id: int
    quantity: Decimal
    reason: str
    warehouse_id: int | None = None
    unit_cost: Decimal | None = None


def check_item(problems: Problems, values: Mapping[str, Any]) -> None:
    """The rules of an item's fields, on a new item's values or an edited item's
    values after the change (so lot sizing is checked with the lot size it will have)."""
    if "sku" in values:
        check_text(problems, values["sku"], "sku", required=True, max_length=60)
    check_text(problems, values["name"], "name", required=True)
    uom = values.get("uom")
    check_text(problems, uom, "uom", max_length=20)
    if uom is not None and not uom.strip():
        problems.invalid("must not be blank", "uom")
    if values["kind"] not in ITEM_KINDS:
        problems.invalid("unknown item kind", "kind")
    if values["procurement"] not in PROCUREMENTS:
        problems.invalid("unknown procurement", "procurement")
    lot_sizing = values.get("lot_sizing")
    if lot_sizing is not None and lot_sizing not in LOT_SIZINGS:
        problems.invalid("unknown lot sizing", "lotSizing")
    lead_time = values.get("lead_time_days")
    if lead_time is not None and not 0 <= lead_time <= 3650:
        problems.invalid("must be between 0 and 3650 days", "leadTimeDays")
    check_decimal(problems, values.get("safety_stock"), "safetyStock", places=6, non_negative=True)
    scrap_rate = values.get("scrap_rate")
    check_decimal(problems, scrap_rate, "scrapRate", places=6, non_negative=True)
    if scrap_rate is not None and scrap_rate.is_finite() and scrap_rate >= 1:
        problems.invalid("must be below 1 (a share, 0.05 = 5%)", "scrapRate")
    for key in ("fixed_lot_size", "min_order_quantity", "lot_multiple"):
        check_decimal(problems, values.get(key), camel(key), places=6, positive=True)
    if lot_sizing == "FIXED_ORDER_QUANTITY" and values.get("fixed_lot_size") is None:
        problems.invalid("is required for FIXED_ORDER_QUANTITY", "fixedLotSize")
    check_decimal(problems, values.get("list_price"), "listPrice", places=4, non_negative=True)
    check_decimal(problems, values.get("standard_cost"), "standardCost", places=4, non_negative=True)


async def create_item(session: AsyncSession, data: NewItem, actor: str | None = None) -> Item:
    problems = Problems()
    check_item(problems, vars(data))
    problems.raise_if_any()
    sku = data.sku.strip()
    if (await session.execute(select(Item.id).where(Item.sku == sku))).first() is not None:
        raise DomainError.one(ErrorCode.DUPLICATE, f"SKU {sku!r} is taken", ["sku"])
    if data.default_supplier_id is not None:
        await usable_supplier(session, data.default_supplier_id, "defaultSupplierId")
    item = Item(
        sku=sku,
        name=data.name.strip(),
        uom=(data.uom or "pcs").strip(),
        kind=data.kind,
        procurement=data.procurement,
        lead_time_days=data.lead_time_days or 0,
        safety_stock=data.safety_stock or Decimal(0),
        scrap_rate=data.scrap_rate or Decimal(0),
        lot_sizing=data.lot_sizing or "LOT_FOR_LOT",
        fixed_lot_size=data.fixed_lot_size,
        min_order_quantity=data.min_order_quantity,
        lot_multiple=data.lot_multiple,
        list_price=data.list_price or Decimal(0),
        standard_cost=data.standard_cost,
        default_supplier_id=data.default_supplier_id,
    )
    session.add(item)
    await session.flush()
    await record_event(session, "item.created", "Item", item.id, {"sku": sku}, actor)
    await session.refresh(item)
    return item


# What updateItem may change (the SKU is the key).
ITEM_UPDATABLE = (
    "name", "uom", "kind", "procurement", "lead_time_days", "safety_stock", "scrap_rate",
    "lot_sizing", "fixed_lot_size", "min_order_quantity", "lot_multiple", "list_price",
    "standard_cost", "active", "default_supplier_id",
)
ITEM_NULLABLE = {"fixed_lot_size", "min_order_quantity", "lot_multiple", "standard_cost", "default_supplier_id"}


async def update_item(
    session: AsyncSession, item_id: int, changes: Mapping[str, Any], actor: str | None = None,
    *, expected_version: int | None = None,
) -> Item:
    """Apply ``changes`` (only the keys given; None clears a nullable field), checked by
    ``createItem``'s rules on the item as it will be. ``expected_version``: the version
    the client read; another one is a CONFLICT.

    An inactive item (``active`` false) stays planned for the demand that exists but is
    refused on new documents (``domain.inventory.items``). Nothing MRP keeps between
    runs depends on these fields: every run reads items and BOMs afresh and computes
    low-level codes from the BOMs (``domain.planning.lowlevel``).
    """
    problems = Problems()
    check_changes(problems, changes, ITEM_UPDATABLE, nullable=ITEM_NULLABLE)
    problems.raise_if_any()

    item = await lock_versioned(session, Item, item_id, expected_version, "item")
    check_item(problems, {key: getattr(item, key) for key in ITEM_UPDATABLE} | dict(changes))
    problems.raise_if_any()
    if changes.get("default_supplier_id") is not None:
        await usable_supplier(session, changes["default_supplier_id"], "defaultSupplierId")
    for key, value in changes.items():
        setattr(item, key, value.strip() if key in ("name", "uom") else value)
    await session.flush()
    await record_event(
        session, "item.updated", "Item", item.id, {"fields": sorted(camel(k) for k in changes)}, actor,
    )
    await session.refresh(item)
    return item


async def set_bom(
    session: AsyncSession,
    item_id: int,
    lines: Sequence[NewBomLine],
    output_quantity: Decimal | None = None,
    actor: str | None = None,
    *,
    expected_version: int | None = None,
) -> Item:
    """Replace the item's BOM; refuse a component that would close a cycle at any depth.

    Every call raises the BOM's version (separate from the item's); ``expected_version``
    is the one the client read (a BOM that does not exist yet has none), another is a CONFLICT.
    """
    problems = Problems()
    check_decimal(problems, output_quantity, "outputQuantity", places=6, positive=True)
    check_line_count(problems, lines)
    seen: dict[int, int] = {}
    for i, line in enumerate(lines):
        path = ("lines", str(i))
        check_decimal(problems, line.quantity, *path, "quantity", places=6, positive=True)
        check_decimal(problems, line.scrap_rate, *path, "scrapRate", places=6, non_negative=True)
        if line.scrap_rate is not None and line.scrap_rate.is_finite() and line.scrap_rate >= 1:
            problems.invalid("must be below 1", *path, "scrapRate")
        if line.component_id in seen:
            problems.invalid(f"component repeats line {seen[line.component_id]}", *path, "componentId")
        seen.setdefault(line.component_id, i)
    problems.raise_if_any()

    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOM_LOCK_KEY})
    item = await session.get(Item, item_id, with_for_update=True)
    if item is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "item not found", ["itemId"])
    bom = await session.get(Bom, item_id, populate_existing=True)  # under the BOM lock
    if bom is not None:
        check_version(bom, expected_version, "BOM")
    elif expected_version is not None:
        raise DomainError.one(
            ErrorCode.CONFLICT, f"the item has no BOM (none), not version {expected_version}; "
            "reload it and apply your change again", [EXPECTED_VERSION],
        )
    known = set(
        (await session.execute(select(Item.id).where(Item.id.in_(list(seen))))).scalars()
    )
    for i, line in enumerate(lines):
        if line.component_id not in known:
            problems.add(ErrorCode.NOT_FOUND, "component not found", "lines", str(i), "componentId")
    problems.raise_if_any()

    for i in await _lines_closing_a_cycle(session, item_id, lines):
        problems.invalid(
            "component would make the BOM cyclic (it is, or contains, the item itself)",
            "lines", str(i), "componentId",
        )
    problems.raise_if_any()

    await session.execute(delete(BomLine).where(BomLine.bom_item_id == item_id))
    values = {"output_quantity": output_quantity or Decimal(1), "updated_at": func.now()}
    await session.execute(
        pg_insert(Bom)
        .values(item_id=item_id, **values)
        .on_conflict_do_update(index_elements=[Bom.item_id], set_=values | {"version": Bom.version + 1})
    )
    if lines:
        await session.execute(
            insert(BomLine),
            [
                {
                    "bom_item_id": item_id,
                    "component_id": line.component_id,
                    "position": i,
                    "quantity": line.quantity,
                    "scrap_rate": line.scrap_rate or Decimal(0),
                }
                for i, line in enumerate(lines)
            ],
        )
    await record_event(
        session, "bom.set", "Item", item_id,
        {"components": [line.component_id for line in lines]}, actor,
    )
    return item


async def _lines_closing_a_cycle(
    session: AsyncSession, item_id: int, lines: Sequence[NewBomLine]
) -> list[int]:
    """Indexes of lines whose component is the item or reaches it through existing BOMs."""
    components = [line.component_id for line in lines]
    if not components:
        return []
    reach = text(
        """
        WITH RECURSIVE reach(root, node) AS (
            SELECT c, c FROM unnest(CAST(:components AS bigint[])) AS c
            UNION
            SELECT r.root, bl.component_id
            FROM reach r JOIN bom_lines bl ON bl.bom_item_id = r.node
            WHERE bl.bom_item_id <> :item
        )
        SELECT DISTINCT root FROM reach WHERE node = :item
        """
    ).bindparams(bindparam("components", type_=ARRAY(BIGINT)))
    bad = set((await session.execute(reach, {"components": components, "item": item_id})).scalars())
    return [i for i, c in enumerate(components) if c in bad]


async def adjust_stock(
    session: AsyncSession, adj: StockAdjustment, actor: str | None = None
) -> Row[Any]:
    """Post a signed on-hand change to the ledger and the balance in one transaction.

    Returns the new balance (item_id, warehouse_id, on_hand, reserved).

    A decrease may not take on-hand below zero nor below what is reserved.
    """
    problems = Problems()
    check_decimal(problems, adj.quantity, "quantity", places=6, label="quantity")
    if adj.quantity.is_finite() and adj.quantity == 0:
        problems.invalid("quantity must not be zero", "quantity")
    check_decimal(problems, adj.unit_cost, "unitCost", places=4, non_negative=True)
    check_text(problems, adj.reason, "reason", required=True, max_length=300)
    problems.raise_if_any()

    if (await session.get(Item, adj.item_id)) is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "item not found", ["itemId"])
    warehouse_id = adj.warehouse_id
    if warehouse_id is None:
        warehouse_id = await default_warehouse_id(session)
        if warehouse_id is None:
            raise DomainError.one(ErrorCode.INVALID_STATE, "no warehouse exists", ["warehouseId"])
    elif (await session.get(Warehouse, warehouse_id)) is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "warehouse not found", ["warehouseId"])

    balance = await ledger.post(
        session,
        item_id=adj.item_id,
        warehouse_id=warehouse_id,
        kind="ADJUSTMENT",
        on_hand=adj.quantity,
        unit_cost=adj.unit_cost if adj.quantity > 0 else None,
        reason=adj.reason.strip(),
        actor=actor,
    )
    if balance is None:
        raise DomainError.one(
            ErrorCode.INSUFFICIENT_STOCK,
            "not enough unreserved stock on hand for this decrease",
            ["quantity"],
        )
    await record_event(
        session, "stock.adjusted", "Item", adj.item_id,
        {"warehouseId": warehouse_id, "quantity": str(adj.quantity), "onHand": str(balance.on_hand)},
        actor,
    )
    if adj.quantity > 0:
        await stock_freed(session, [adj.item_id], source=f"stock adjustment ({adj.reason.strip()})", actor=actor)
    return balance
