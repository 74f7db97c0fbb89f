"""Stored MRP runs: the run, its planned orders, their pegging and the run's messages.

A run belongs to one job. Saving a run replaces every PLANNED (unfirmed) planned
order of earlier runs in the same transaction; FIRMED ones stay, pointing at the
purchase order line or work order they became (which are supply from then on).

Planned order ids are reserved from their sequence in one block per run so the
rows and the pegging that refers to them can be written with COPY.

Integrity of the high-volume references is kept by their only writer, not by foreign
keys. A large run writes millions of planned orders and pegs in one transaction, and a
foreign key check per row (a key-share lock on the referenced row) costs four times
the COPY itself (``bench/mrp.py --fk-options``: 59 s instead of 169 s for the save of
200,000 items). So ``planned_orders.run_id`` / ``item_id`` and every ``peggings``
reference are plain columns: the save writes ids it just read or reserved, in the same
transaction, and deletes an earlier plan's pegging before its orders
(``domain.planning.run.replace_earlier``); runs and items are never deleted, and the
documents a peg names (sales orders, opportunities, work orders) are read through
loaders that answer null for a missing row. The references that other writers set,
a firmed order's purchase order line or work order, keep their foreign keys.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, Quantity, one_of

PLANNED_ORDER_KINDS = ("PURCHASE", "PRODUCTION", "SUBCONTRACT")
PLANNED_ORDER_STATUSES = ("PLANNED", "FIRMED")
DEMAND_SOURCES = ("SALES_ORDER", "FORECAST", "SAFETY_STOCK", "DEPENDENT")
SEVERITIES = ("INFO", "WARNING", "ERROR")



class MrpRun(Base):
    __tablename__ = "mrp_runs"
    __table_args__ = (
        CheckConstraint("horizon_days > 0", name="horizon_positive"),
        CheckConstraint(
            "forecast_min_probability BETWEEN 0 AND 100", name="forecast_probability_range"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    start_date: Mapped[date]
    horizon_days: Mapped[int]
    forecast_min_probability: Mapped[int | None]
    items_planned: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # set when the run's plan was saved (the job may still be finishing)
    completed_at: Mapped[datetime | None]


class PlannedOrder(Base):
    __tablename__ = "planned_orders"
    __table_args__ = (
        CheckConstraint(one_of("kind", PLANNED_ORDER_KINDS), name="kind_known"),
        CheckConstraint(one_of("status", PLANNED_ORDER_STATUSES), name="status_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("release_date <= due_date", name="release_before_due"),
        CheckConstraint(
            "status = 'PLANNED' OR purchase_order_line_id IS NOT NULL OR work_order_id IS NOT NULL",
            name="firmed_has_document",
        ),
        Index("ix_planned_orders_run", "run_id", "id"),
        Index("ix_planned_orders_item", "item_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    run_id: Mapped[int] = mapped_column(BigInteger)  # mrp_runs.id (no foreign key: see above)
    item_id: Mapped[int] = mapped_column(BigInteger)  # items.id
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    release_date: Mapped[date]
    due_date: Mapped[date]
    # a firmed planned order keeps its document: deleting that document is refused
    purchase_order_line_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_order_lines.id"))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))


class Pegging(Base):
    """``quantity`` of one demand that a planned order covers (pegged quantities add up
    to the order's net requirement)."""

    __tablename__ = "peggings"
    __table_args__ = (
        CheckConstraint(one_of("source", DEMAND_SOURCES), name="source_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index(
            "ix_peggings_parent",
            "parent_planned_order_id",
            postgresql_where="parent_planned_order_id IS NOT NULL",
        ),
    )

    # references without foreign keys: see the module docstring
    planned_order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    date: Mapped[date]
    sales_order_id: Mapped[int | None] = mapped_column(BigInteger)
    opportunity_id: Mapped[int | None] = mapped_column(BigInteger)
    work_order_id: Mapped[int | None] = mapped_column(BigInteger)
    parent_planned_order_id: Mapped[int | None] = mapped_column(BigInteger)


class PlanningMessage(Base):
    __tablename__ = "planning_messages"
    __table_args__ = (CheckConstraint(one_of("severity", SEVERITIES), name="severity_known"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("mrp_runs.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
