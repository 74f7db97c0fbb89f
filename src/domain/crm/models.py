from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, Money, Quantity, Timestamps, UnitAmount, one_of
from domain.shared.versions import Versioned


class Customer(Versioned, Timestamps, Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("credit_limit >= 0", name="credit_limit_non_negative"),
        CheckConstraint("payment_terms_days >= 0", name="payment_terms_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    segment: Mapped[str | None] = mapped_column(String(80))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(60)), server_default=text("'{}'"))
    payment_terms_days: Mapped[int] = mapped_column(server_default=text("30"))
    credit_limit: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))


class CreditLimitChange(Base):
    """One change of a customer's credit limit: who set it, when, from what to what."""

    __tablename__ = "credit_limit_changes"
    __table_args__ = (Index("ix_credit_limit_changes_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    previous_limit: Mapped[Decimal | None] = mapped_column(Money)  # None: set on create
    new_limit: Mapped[Decimal] = mapped_column(Money)
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Contact(Base):
    """A person at a customer or at a supplier (exactly one of the two)."""

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint("num_nonnulls(customer_id, supplier_id) = 1", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(120))


LEAD_STATUSES = ("NEW", "QUALIFIED", "DISQUALIFIED", "CONVERTED")
STAGES = ("PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "WON", "LOST")
ACTIVITY_KINDS = ("CALL", "EMAIL", "MEETING", "NOTE", "TASK")



class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (CheckConstraint(one_of("status", LEAD_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    source: Mapped[str | None] = mapped_column(String(80))
    owner: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'NEW'"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    # why it was last disqualified; kept when it is qualified again
    disqualification_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Opportunity(Timestamps, Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        CheckConstraint(one_of("stage", STAGES), name="stage_known"),
        CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        Index("ix_opportunities_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(20), server_default=text("'PROSPECTING'"))
    probability: Mapped[int] = mapped_column(server_default=text("10"))
    amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    expected_close_date: Mapped[date | None]
    owner: Mapped[str | None] = mapped_column(String(120))


class OpportunityLine(Base):
    __tablename__ = "opportunity_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(UnitAmount)


class OpportunityStageChange(Base):
    """Every stage an opportunity entered, for the funnel's conversion rates."""

    __tablename__ = "opportunity_stage_changes"
    __table_args__ = (CheckConstraint(one_of("stage", STAGES), name="stage_known"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(20))
    entered_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(one_of("kind", ACTIVITY_KINDS), name="kind_known"),
        # the follow-up list: due date ascending (nulls last, ASC's default), then id
        Index("ix_activities_due", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
