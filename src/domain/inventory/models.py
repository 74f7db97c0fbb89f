from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Sequence,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import SINGLE_ROW, Base, ExactAmount, Quantity, Timestamps, UnitAmount, one_of
from domain.shared.versions import Versioned

ITEM_KINDS = ("FINISHED", "SEMI_FINISHED", "RAW_MATERIAL")
PROCUREMENTS = ("MAKE", "BUY", "SUBCONTRACT")
LOT_SIZINGS = ("LOT_FOR_LOT", "FIXED_ORDER_QUANTITY", "MIN_MULTIPLE")



class Item(Versioned, Timestamps, Base):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(one_of("kind", ITEM_KINDS), name="kind_known"),
        CheckConstraint(one_of("procurement", PROCUREMENTS), name="procurement_known"),
        CheckConstraint(one_of("lot_sizing", LOT_SIZINGS), name="lot_sizing_known"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_non_negative"),
        CheckConstraint("safety_stock >= 0", name="safety_stock_non_negative"),
        CheckConstraint("scrap_rate >= 0 AND scrap_rate < 1", name="scrap_rate_range"),
        CheckConstraint("list_price >= 0", name="list_price_non_negative"),
        Index("ix_items_name_lower", text("lower(name)")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sku: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    uom: Mapped[str] = mapped_column(String(20), server_default=text("'pcs'"))
    kind: Mapped[str] = mapped_column(String(20))
    procurement: Mapped[str] = mapped_column(String(20))
    lead_time_days: Mapped[int] = mapped_column(server_default=text("0"))
    safety_stock: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    scrap_rate: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    lot_sizing: Mapped[str] = mapped_column(String(30), server_default=text("'LOT_FOR_LOT'"))
    fixed_lot_size: Mapped[Decimal | None] = mapped_column(Quantity)
    min_order_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    lot_multiple: Mapped[Decimal | None] = mapped_column(Quantity)
    list_price: Mapped[Decimal] = mapped_column(UnitAmount, server_default=text("0"))
    standard_cost: Mapped[Decimal | None] = mapped_column(UnitAmount)
    # firmed planned purchases are ordered from it (domain.planning.firming)
    default_supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    # inactive: refused on new quotes, orders and purchase orders; still planned (domain.inventory.items)
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class Bom(Versioned, Base):
    __tablename__ = "boms"
    __table_args__ = (CheckConstraint("output_quantity > 0", name="output_positive"),)

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    output_quantity: Mapped[Decimal] = mapped_column(Quantity, server_default=text("1"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class BomLine(Base):
    __tablename__ = "bom_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("scrap_rate >= 0 AND scrap_rate < 1", name="scrap_rate_range"),
        CheckConstraint("component_id <> bom_item_id", name="not_self"),
        Index("uq_bom_lines_component", "bom_item_id", "component_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    bom_item_id: Mapped[int] = mapped_column(ForeignKey("boms.item_id", ondelete="CASCADE"))
    component_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    position: Mapped[int]
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    scrap_rate: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))


class Warehouse(Versioned, Base):
    """A stock location; exactly one is the default (stock is drawn from it first)."""

    __tablename__ = "warehouses"
    __table_args__ = (
        Index(f"{SINGLE_ROW}default_warehouse", "is_default", unique=True, postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    is_default: Mapped[bool] = mapped_column(server_default=text("false"))


class StockBalance(Base):
    """Current on-hand and reserved per item and warehouse, kept in step with the ledger."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    on_hand: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    reserved: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))


# The reference both moves of one transfer carry: ("StockTransfer", next value).
TRANSFER_IDS = Sequence("stock_transfer_ids", metadata=Base.metadata)


class StockMove(Base):
    """Append-only ledger of stock movements (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "stock_moves"
    __table_args__ = (
        # a REVALUATION row moves value only
        CheckConstraint(
            "quantity_on_hand <> 0 OR quantity_reserved <> 0 OR value <> 0", name="moves_something"
        ),
        Index("ix_stock_moves_item_wh", "item_id", "warehouse_id", "id"),
        Index("ix_stock_moves_reference", "reference_type", "reference_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[str] = mapped_column(String(30))
    quantity_on_hand: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    quantity_reserved: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    # on-hand changes: the unit cost the stock came in or left at (moving average), and
    # the signed value; null on reservations. Stored, so later receipts never change them.
    unit_cost: Mapped[Decimal | None] = mapped_column(ExactAmount)
    value: Mapped[Decimal | None] = mapped_column(ExactAmount)
    reason: Mapped[str | None] = mapped_column(String(300))
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ItemValuation(Base):
    """An item's stock as valued (domain.inventory.valuation), kept in step with the ledger.

    ``quantity`` is the item's on-hand over all warehouses and ``value`` the sum of its
    ledger values; ``average_cost`` is null until stock arrived with a cost. Written
    only by ``ledger.post`` / ``ledger.revalue``, under this row's lock.
    """

    __tablename__ = "item_valuations"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    value: Mapped[Decimal] = mapped_column(ExactAmount, server_default=text("0"))
    average_cost: Mapped[Decimal | None] = mapped_column(ExactAmount)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
