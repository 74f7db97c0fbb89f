"""Tables of the costing context."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, func
from sqlalchemy.orm import Mapped, mapped_column

from domain.shared.db import Base, ExactAmount

COST_ROLLUP = "COST_ROLLUP"  # the job kind of the all-items roll-up (``workers.costing``)


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
