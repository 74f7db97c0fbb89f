"""Kitting / shortage analysis: can an order or a work order be built or shipped now?

Pure functions over plain data. Each need (an order line, a work order component)
first takes what is reserved for it alone, then unreserved stock of its item, which
is handed out once, in need order: two lines of one item never both count the same
units. A need's ``available`` is what it was allocated (so never above ``required``).
Shortages of one item are then covered, in the same order, by the item's open
scheduled receipts (purchase order lines, work orders) by due date: ``covered_on`` is
the day the receipts, after earlier shortages of the item have claimed theirs, add
up to the shortage; None when they never do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from domain.inventory.atp import Receipt
from domain.production.requirements import COUNTABLE_UOMS

ZERO = Decimal(0)
STEP = Decimal("0.000001")


@dataclass(frozen=True)
class Need:
    item_id: int
    required: Decimal
    # reserved for this need alone (an order line's reservation)
    own: Decimal = ZERO


@dataclass(frozen=True)
class KitLine:
    item_id: int
    required: Decimal
    available: Decimal
    shortage: Decimal
    covered_on: date | None


@dataclass(frozen=True)
class Kit:
    complete: bool
    buildable: Decimal
    lines: list[KitLine]


@dataclass(frozen=True)
class Component:
    """A work order component: ``required`` still to be issued; ``usage`` of it makes
    ``per`` parent units (kept as a ratio so whole units are not lost to rounding)."""

    item_id: int
    required: Decimal
    usage: Decimal
    per: Decimal
    issued: Decimal = ZERO


def allocate(
    needs: Sequence[Need],
    free: Mapping[int, Decimal],
    receipts: Mapping[int, Iterable[Receipt]],
    today: date,
) -> list[KitLine]:
    """Per need, in order: allocated availability, shortage and the date receipts cover it."""
    left = {item_id: max(qty, ZERO) for item_id, qty in free.items()}
    schedule = {
        item_id: sorted(((max(r.due, today), r.quantity) for r in rs if r.quantity > 0),
                        key=lambda r: r[0])
        for item_id, rs in receipts.items()
    }
    short_so_far: dict[int, Decimal] = {}
    lines = []
    for need in needs:
        required = max(need.required, ZERO)
        own = min(max(need.own, ZERO), required)
        take = min(left.get(need.item_id, ZERO), required - own)
        left[need.item_id] = left.get(need.item_id, ZERO) - take
        available = own + take
        shortage = required - available
        covered_on = None
        if shortage > 0:
            claimed = short_so_far.get(need.item_id, ZERO) + shortage
            short_so_far[need.item_id] = claimed
            covered_on = _covered_on(schedule.get(need.item_id, []), claimed)
        lines.append(KitLine(need.item_id, required, available, shortage, covered_on))
    return lines


def _covered_on(schedule: Sequence[tuple[date, Decimal]], quantity: Decimal) -> date | None:
    total = ZERO
    for due, qty in schedule:
        total += qty
        if total >= quantity:
            return due
    return None


def sales_order_kit(
    needs: Sequence[Need],
    free: Mapping[int, Decimal],
    receipts: Mapping[int, Iterable[Receipt]],
    today: date,
) -> Kit:
    """An order's lines; ``buildable`` counts the lines that could ship in full now."""
    lines = allocate(needs, free, receipts, today)
    covered = sum(1 for line in lines if line.shortage == 0)
    return Kit(complete=covered == len(lines), buildable=Decimal(covered), lines=lines)


def round_down(quantity: Decimal, uom: str) -> Decimal:
    """Whole units for countable units of measure, else the quantity scale (6 places)."""
    step = Decimal(1) if uom.lower() in COUNTABLE_UOMS else STEP
    return (quantity / step).to_integral_value(rounding=ROUND_FLOOR) * step


def work_order_kit(
    components: Sequence[Component],
    remaining: Decimal,
    completed: Decimal,
    uom: str,
    free: Mapping[int, Decimal],
    receipts: Mapping[int, Iterable[Receipt]],
    today: date,
) -> Kit:
    """A work order's components; ``buildable`` = parent units the material on hand allows.

    Per component, what was already issued plus what is allocated now supports
    ``(issued + available) × per / usage`` units in all, ``completed`` of them already
    built; the least of these, capped at ``remaining``, rounded down.
    """
    lines = allocate([Need(c.item_id, c.required) for c in components], free, receipts, today)
    buildable = max(remaining, ZERO)
    for component, line in zip(components, lines, strict=True):
        if component.usage <= 0:
            continue
        units = (component.issued + line.available) * component.per / component.usage - completed
        buildable = min(buildable, max(units, ZERO))
    return Kit(
        complete=all(line.shortage == 0 for line in lines),
        buildable=round_down(buildable, uom),
        lines=lines,
    )
