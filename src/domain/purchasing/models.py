"""Purchase orders (and SUBCONTRACT orders) and their lines.

A line's open quantity (``quantity - received_quantity``) is a scheduled receipt at
its ``due_date`` for ATP and MRP; the index on (item_id, due_date) serves those reads.
What was received lives in the stock ledger too (RECEIPT moves referencing the line);
``received_quantity`` keeps it on the line for cheap reads.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, Quantity, Timestamps, UnitAmount, one_of
from domain.shared.versions import Versioned


class PurchaseOrderStatus(StrEnum):
    """A purchase order's lifecycle (the schema's PurchaseOrderStatus)."""

    OPEN = "OPEN"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CANCELLED = "CANCELLED"


# still to be received: open lines are scheduled receipts
OPEN_STATUSES = (PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED)


class Supplier(Versioned, Timestamps, Base):
    """A party purchase orders are placed with; inactive ones take no new orders."""

    __tablename__ = "suppliers"
    __table_args__ = (
        CheckConstraint("payment_terms_days >= 0", name="payment_terms_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    payment_terms_days: Mapped[int] = mapped_column(server_default=text("30"))
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        CheckConstraint(one_of("status", PurchaseOrderStatus), name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    subcontract: Mapped[bool] = mapped_column(server_default=text("false"))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'OPEN'"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "received_quantity BETWEEN 0 AND quantity", name="received_within_quantity"
        ),
        CheckConstraint(
            "cancelled_quantity >= 0 AND received_quantity + cancelled_quantity <= quantity",
            name="cancelled_within_quantity",
        ),
        CheckConstraint("unit_cost >= 0", name="unit_cost_non_negative"),
        Index("ix_purchase_order_lines_item_due", "item_id", "due_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    received_quantity: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    # what cancelPurchaseOrder took off the line (never received, no longer expected)
    cancelled_quantity: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    unit_cost: Mapped[Decimal | None] = mapped_column(UnitAmount)
    due_date: Mapped[date]
