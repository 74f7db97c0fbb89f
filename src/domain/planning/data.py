"""The planning module's inputs and outputs: plain frozen dataclasses, quantities as Decimal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

LotSizing = Literal["LOT_FOR_LOT", "FIXED_ORDER_QUANTITY", "MIN_MULTIPLE"]
Procurement = Literal["MAKE", "BUY", "SUBCONTRACT"]
OrderKind = Literal["PRODUCTION", "PURCHASE", "SUBCONTRACT"]
DemandSource = Literal["SALES_ORDER", "FORECAST", "SAFETY_STOCK", "DEPENDENT"]
Severity = Literal["INFO", "WARNING", "ERROR"]
MessageCode = Literal["LATE", "NO_BOM", "CYCLE", "UNKNOWN_ITEM", "BAD_LOT_SIZE"]

COUNTABLE_UOMS = frozenset({"pcs", "ea", "unit"})


@dataclass(frozen=True, slots=True)
class BomComponent:
    """One BOM line: ``quantity`` of ``component_id`` per ``PlanItem.bom_output_quantity`` of the parent."""

    component_id: int
    quantity: Decimal
    scrap_rate: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class PlanItem:
    """An item as planning sees it; ``on_hand_available`` is stock not reserved for anything."""

    id: int
    procurement: Procurement = "BUY"
    lead_time_days: int = 0
    safety_stock: Decimal = Decimal(0)
    scrap_rate: Decimal = Decimal(0)
    lot_sizing: LotSizing = "LOT_FOR_LOT"
    fixed_lot_size: Decimal | None = None
    min_order_quantity: Decimal | None = None
    lot_multiple: Decimal | None = None
    uom: str = "pcs"
    on_hand_available: Decimal = Decimal(0)
    bom: tuple[BomComponent, ...] = ()
    bom_output_quantity: Decimal = Decimal(1)
    has_bom: bool = False


@dataclass(frozen=True, slots=True)
class Demand:
    """Independent demand (sales order line, forecast) or, in pegging, a dependent one."""

    item_id: int
    date: date
    quantity: Decimal
    source: DemandSource = "SALES_ORDER"
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """Scheduled receipt: an open purchase / work order line or a firmed planned order."""

    item_id: int
    date: date
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Peg:
    """How much of one demand a planned order covers.

    ``date`` is the demand's own date (a parent's release date for DEPENDENT, ``start_date``
    for SAFETY_STOCK), even when it lies before ``start_date`` and was netted there.
    """

    source: DemandSource
    ref: str | None
    quantity: Decimal
    date: date
    parent_planned_order_id: int | None = None


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """A proposed purchase / production / subcontract order; ids are 1, 2, … within one plan."""

    id: int
    item_id: int
    kind: OrderKind
    quantity: Decimal
    release_date: date
    due_date: date
    pegging: list[Peg] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Message:
    """Something a planner should look at (``code`` is stable, ``text`` is for people).

    A message about one planned order names it by :data:`PLANNED_ORDER` in ``text`` and
    gives its plan id in ``planned_order_id``; saving the plan puts the order's number there.
    """

    item_id: int
    severity: Severity
    text: str
    code: MessageCode
    planned_order_id: int | None = None


# where a message's text names its planned order, before the plan is saved
PLANNED_ORDER = "{planned order}"


def planned_order_number(pk: int) -> str:
    """The number a saved planned order is shown by (``PL-000123``), from its id."""
    return f"PL-{pk:06d}"


@dataclass(frozen=True, slots=True)
class Plan:
    """The result of one planning run."""

    planned_orders: list[PlannedOrder]
    messages: list[Message]
