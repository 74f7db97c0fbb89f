"""Quotes, sales orders and shipments.

What is reserved for an order line lives in one place only: the stock ledger
(`stock_moves` rows referencing the line, read through ``domain.sales.reservations``),
whose balances the database keeps within on-hand. Shipped and invoiced quantities are kept on the line for cheap reads.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, Money, Percent, Quantity, Timestamps, UnitAmount, one_of
from domain.shared.versions import Versioned


class QuoteStatus(StrEnum):
    """A quote's lifecycle (the schema's QuoteStatus)."""

    DRAFT = "DRAFT"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class OrderStatus(StrEnum):
    """A sales order's lifecycle (the schema's OrderStatus); every change goes through
    ``domain.sales.status``."""

    DRAFT = "DRAFT"
    # confirmation was blocked by the credit policy; waits for finance
    CREDIT_HOLD = "CREDIT_HOLD"
    CONFIRMED = "CONFIRMED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    # shipped, invoiced and fully paid
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


# Confirmed and not wholly shipped: what is left of their lines is reserved, backordered
# (promised a date, claiming receipts, MRP demand), may be made to order, and may ship.
OPEN_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED)


class _PricedLine:
    """Columns shared by quote and order lines (one pricing module computes them)."""

    position: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(UnitAmount)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, server_default=text("0"))
    tax_rate: Mapped[Decimal] = mapped_column(Percent, server_default=text("0"))
    line_total: Mapped[Decimal] = mapped_column(Money)
    tax_amount: Mapped[Decimal] = mapped_column(Money)


class _Totals:
    subtotal: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    tax_total: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    total: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))


class Quote(Versioned, _Totals, Base):
    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint(one_of("status", QuoteStatus), name="status_known"),
        Index("ix_quotes_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), server_default=text("'DRAFT'"))
    valid_until: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class QuoteLine(_PricedLine, Base):
    __tablename__ = "quote_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)


class SalesOrder(Versioned, _Totals, Timestamps, Base):
    __tablename__ = "sales_orders"
    __table_args__ = (
        CheckConstraint(one_of("status", OrderStatus), name="status_known"),
        Index("ix_sales_orders_customer", "customer_id", "id"),
        Index("ix_sales_orders_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), server_default=text("'DRAFT'"))
    currency: Mapped[str] = mapped_column(String(3), server_default=text("'EUR'"))
    requested_date: Mapped[date | None]
    promised_date: Mapped[date | None]
    credit_hold_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class SalesOrderLine(_PricedLine, Base):
    __tablename__ = "sales_order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),
        CheckConstraint("shipped_quantity BETWEEN 0 AND quantity", name="shipped_within_quantity"),
        # what a close-short cancelled: the rest that was never shipped
        CheckConstraint(
            "cancelled_quantity >= 0 AND shipped_quantity + cancelled_quantity <= quantity",
            name="cancelled_within_quantity",
        ),
        CheckConstraint(
            "invoiced_quantity BETWEEN 0 AND shipped_quantity", name="invoiced_within_shipped"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("sales_orders.id", ondelete="CASCADE"), index=True
    )
    shipped_quantity: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    invoiced_quantity: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    cancelled_quantity: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    promised_date: Mapped[date | None]


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    shipped_at: Mapped[datetime] = mapped_column(server_default=func.now())
    carrier: Mapped[str | None] = mapped_column(String(80))
    tracking_number: Mapped[str | None] = mapped_column(String(80))


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_lines.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
