"""Tables of the costing context: the all-items roll-up, and actual work-order costing.

The roll-up (``domain.costing.rollup``) keeps the last result per made item.

A costing run belongs to one job (kind ``COSTING``) and holds what was asked: the period,
the overhead pool and how it is allocated. ``work_order_costs`` holds one row per costed
work order, replaced whenever a run covering the day it completed runs again.
``variance`` and ``revalued_amount`` add up over the runs: together with the work
order's PRODUCTION values they are what the stock received from it has been charged
(see ``domain.costing.services``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, ExactAmount, Money, Quantity, one_of

COST_ROLLUP = "COST_ROLLUP"  # the job kind of the all-items roll-up (``workers.costing``)


class AllocationBasis(StrEnum):
    """What the overhead pool is shared by (the schema's AllocationBasis)."""

    OUTPUT_QUANTITY = "OUTPUT_QUANTITY"
    LABOR_HOURS = "LABOR_HOURS"


class CostingRun(Base):
    __tablename__ = "costing_runs"
    __table_args__ = (
        CheckConstraint("period_start <= period_end", name="period_ordered"),
        CheckConstraint("overhead_amount >= 0", name="overhead_non_negative"),
        CheckConstraint(one_of("allocation_basis", AllocationBasis), name="allocation_basis_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    overhead_amount: Mapped[Decimal] = mapped_column(Money)
    allocation_basis: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # set when the results were saved
    completed_at: Mapped[datetime | None]
    work_orders_costed: Mapped[int] = mapped_column(server_default=text("0"))


class WorkOrderCost(Base):
    __tablename__ = "work_order_costs"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    costing_run_id: Mapped[int] = mapped_column(ForeignKey("costing_runs.id"), index=True)
    # the work order's weight in the allocation: its completed quantity or its labour hours
    weight: Mapped[Decimal] = mapped_column(Quantity)
    material_cost: Mapped[Decimal] = mapped_column(ExactAmount)
    overhead_cost: Mapped[Decimal] = mapped_column(Money)
    total_cost: Mapped[Decimal] = mapped_column(ExactAmount)
    unit_cost: Mapped[Decimal] = mapped_column(ExactAmount)
    # the part of the cost differences that reached stock already gone (issued, shipped)
    variance: Mapped[Decimal] = mapped_column(ExactAmount, server_default=text("0"))
    # the part posted to the stock still on hand (Σ its REVALUATION rows)
    revalued_amount: Mapped[Decimal] = mapped_column(ExactAmount, server_default=text("0"))
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CostRollup(Base):
    """The last roll-up's unit cost of each item with a BOM (``domain.costing.rollup``).

    Replaced as a whole by every roll-up job, in one transaction: readers see the
    previous roll-up until the new one commits. ``job_id`` names the job that wrote
    the row; it has no foreign key (written with COPY, one check per row would be most
    of the save, and job rows are never deleted).
    """

    __tablename__ = "cost_rollups"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    unit_cost: Mapped[Decimal] = mapped_column(ExactAmount)
    job_id: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())
