"""What a work order's finished units come into stock at, before costing has run.

Actual costing (``domain.costing``) knows a work order's cost only at period end; its
output arrives before that and must carry a value meanwhile, or everything shipped
from it leaves at zero. The estimate is the material one unit needs at what its
components cost the work order: each component at the average unit value of what was
issued to it so far, or, while nothing of it is issued, at its unit cost now
(``valuation.unit_cost_now``), for the quantity one unit requires (BOM scrap
included). Overhead comes with the costing run, which revalues what is still on hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from domain.inventory.valuation import exact

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ComponentCost:
    required: Decimal  # for the whole work order
    issued: Decimal
    issued_value: Decimal  # Σ of its ISSUE rows' values, as a positive amount
    cost_now: Decimal


def provisional_unit_cost(order_quantity: Decimal, components: Iterable[ComponentCost]) -> Decimal | None:
    """The material cost of one unit of output; None without components to go by."""
    total = ZERO
    found = False
    for component in components:
        found = True
        unit = component.issued_value / component.issued if component.issued > 0 else component.cost_now
        total += unit * component.required
    if not found or order_quantity <= 0:
        return None
    return exact(total / order_quantity)
