"""Planning: time-phased MRP as a pure function over plain data (no database, no jobs)."""

from domain.planning.data import (
    BomComponent,
    Demand,
    Message,
    Peg,
    Plan,
    PlanItem,
    PlannedOrder,
    Receipt,
)
from domain.planning.mrp import plan

__all__ = ["BomComponent", "Demand", "Message", "Peg", "Plan", "PlanItem", "PlannedOrder", "Receipt", "plan"]
