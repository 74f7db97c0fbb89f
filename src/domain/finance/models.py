"""Receivables: invoices, payments and how payments were applied, credit notes.

An invoice's balance is ``total - paid_amount - credited_amount``: ``invoice_balance``
(Python, for rows and ORM objects), ``Invoice.balance_sql()`` (SQLAlchemy) and
``BALANCE_SQL`` (hand-written SQL) are its only definitions.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Identity,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, Money, Quantity, one_of


class InvoiceStatus(StrEnum):
    """An invoice's lifecycle (the schema's InvoiceStatus)."""

    OPEN = "OPEN"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    VOID = "VOID"


# Invoices that still owe money: open receivables, what a payment is applied to.
UNPAID_INVOICE_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
# Invoices that owe nothing any more: paid (perhaps partly credited) or credited in full.
SETTLED_INVOICE_STATUSES = (InvoiceStatus.PAID, InvoiceStatus.VOID)

# The balance in hand-written SQL over the invoices table (domain.finance.exposure).
BALANCE_SQL = "(total - paid_amount - credited_amount)"


class InvoiceAmounts(Protocol):
    @property
    def total(self) -> Decimal: ...
    @property
    def paid_amount(self) -> Decimal: ...
    @property
    def credited_amount(self) -> Decimal: ...


def invoice_balance(invoice: InvoiceAmounts) -> Decimal:
    """What is still owed on an invoice (a row or an ORM object): total - paid - credited."""
    return invoice.total - invoice.paid_amount - invoice.credited_amount


def invoice_status(invoice: InvoiceAmounts) -> InvoiceStatus:
    """The status an invoice's amounts give it.

    Something owed: OPEN, or PARTIALLY_PAID once a payment was applied. Nothing owed:
    VOID when credit notes took the whole total and nothing was paid ("an invoice
    credited in full reads VOID"), else PAID (paid in full, or partly paid with the
    rest credited; an invoice of nothing is PAID too).
    """
    if invoice_balance(invoice) > 0:
        return InvoiceStatus.PARTIALLY_PAID if invoice.paid_amount > 0 else InvoiceStatus.OPEN
    if invoice.paid_amount == 0 and invoice.credited_amount > 0:
        return InvoiceStatus.VOID
    return InvoiceStatus.PAID


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(one_of("status", InvoiceStatus), name="status_known"),
        CheckConstraint("paid_amount BETWEEN 0 AND total", name="paid_within_total"),
        # the balance never goes below zero, whatever runs in parallel
        CheckConstraint("credited_amount >= 0 AND paid_amount + credited_amount <= total",
                        name="credited_within_total"),
        Index("ix_invoices_customer_open", "customer_id", "due_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    issue_date: Mapped[date]
    due_date: Mapped[date]
    total: Mapped[Decimal] = mapped_column(Money)
    paid_amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    credited_amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'OPEN'"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    @classmethod
    def balance_sql(cls) -> ColumnElement[Decimal]:
        return cls.total - cls.paid_amount - cls.credited_amount


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_lines.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    line_total: Mapped[Decimal] = mapped_column(Money)
    tax_amount: Mapped[Decimal] = mapped_column(Money)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date]
    reference: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class PaymentAllocation(Base):
    __tablename__ = "payment_allocations"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)


class CreditNote(Base):
    """A credit against one invoice: lowers its balance and the customer's receivables."""

    __tablename__ = "credit_notes"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(120))
