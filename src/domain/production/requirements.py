"""What a work order needs of each component: pure arithmetic over plain numbers.

A component's requirement is the BOM line scaled to the order, scrap included, and
rounded up to the quantity scale, so it is never short by rounding. Release stores
it on the work order; MRP and kitting compute it for work orders not yet released.
Backflush consumes it in proportion to what is reported produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Protocol, TypeVar

ZERO = Decimal(0)
STEP = Decimal("0.000001")
COUNTABLE_UOMS = frozenset({"pcs", "ea", "unit"})


def round_up(value: Decimal) -> Decimal:
    """Up to the quantity scale (6 places): a requirement is never short by rounding."""
    return value.quantize(STEP, rounding=ROUND_CEILING)


def whole_units_up(quantity: Decimal, uom: str) -> Decimal:
    """Up to whole units for a countable unit of measure, else ``quantity`` as is."""
    return quantity.to_integral_value(ROUND_CEILING) if uom.lower() in COUNTABLE_UOMS else quantity


def component_requirement(
    order_quantity: Decimal, line_quantity: Decimal, line_scrap: Decimal, output_quantity: Decimal
) -> Decimal:
    """What ``order_quantity`` units need of a BOM line giving ``output_quantity`` units
    from ``line_quantity`` with scrap rate ``line_scrap``."""
    return round_up(order_quantity * line_quantity * (1 + line_scrap) / output_quantity)


class Requirement(Protocol):
    """A component of a released work order (``WorkOrderComponent``)."""

    @property
    def required_quantity(self) -> Decimal: ...

    @property
    def issued_quantity(self) -> Decimal: ...


C = TypeVar("C", bound=Requirement)


def backflush(
    order_quantity: Decimal, completed_quantity: Decimal, components: Sequence[C], quantity: Decimal
) -> list[tuple[C, Decimal]]:
    """Per component, what ``quantity`` more units of an order of ``order_quantity``
    (``completed_quantity`` done) consume, scrap included, capped at what is still
    unissued; the last report takes everything left."""
    last = completed_quantity + quantity >= order_quantity
    result = []
    for c in components:
        left = c.required_quantity - c.issued_quantity
        share = left if last else min(left, round_up(c.required_quantity * quantity / order_quantity))
        result.append((c, max(share, ZERO)))
    return result
