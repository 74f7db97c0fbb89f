"""Work orders and their components.

A work order's open quantity (``quantity - completed_quantity``) is a scheduled
receipt of its item at ``due_date``; the index on (item_id, due_date) serves those
reads. Components are the BOM scaled to the whole order, scrap included, so
``issued_quantity`` never passes ``required_quantity`` however it is issued
(kitted or backflushed). Stock moves referencing a component hold what was issued.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, Quantity, Timestamps, one_of


class WorkOrderStatus(StrEnum):
    """A work order's lifecycle (the schema's WorkOrderStatus)."""

    PLANNED = "PLANNED"
    RELEASED = "RELEASED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


# not yet completed: the open quantity is still to arrive
OPEN_STATUSES = (WorkOrderStatus.PLANNED, WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)
# released to the shop floor: materials may be issued and production reported
PRODUCING_STATUSES = (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)
# nothing issued or completed yet (checked too): what may still be cancelled
CANCELLABLE_STATUSES = (WorkOrderStatus.PLANNED, WorkOrderStatus.RELEASED)


class WorkOrder(Timestamps, Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        CheckConstraint(one_of("status", WorkOrderStatus), name="status_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "completed_quantity BETWEEN 0 AND quantity", name="completed_within_quantity"
        ),
        CheckConstraint("labor_hours >= 0", name="labor_hours_non_negative"),
        Index("ix_work_orders_item_due", "item_id", "due_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    completed_quantity: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'PLANNED'"))
    start_date: Mapped[date | None]
    due_date: Mapped[date]
    sales_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_orders.id"), index=True
    )
    labor_hours: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
    # the day the last unit was reported: costing allocates a period's overhead by it
    completed_on: Mapped[date | None] = mapped_column(index=True)


class WorkOrderComponent(Base):
    __tablename__ = "work_order_components"
    __table_args__ = (
        CheckConstraint("required_quantity > 0", name="required_positive"),
        CheckConstraint(
            "issued_quantity BETWEEN 0 AND required_quantity", name="issued_within_required"
        ),
        Index("uq_work_order_components_item", "work_order_id", "item_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    required_quantity: Mapped[Decimal] = mapped_column(Quantity)
    issued_quantity: Mapped[Decimal] = mapped_column(Quantity, server_default=text("0"))
