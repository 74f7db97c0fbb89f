"""BOM cost roll-up: the material cost of one unit of every made item, bottom-up, in one pass.

For an item with a BOM (``output_quantity`` of it from the lines, its own scrap rate)::

    unit cost = Σ_lines quantity × (1 + line scrap) / output_quantity × component cost
                / (1 − item scrap)

A component's cost is its own roll-up when it is *made* (it has a BOM and its
procurement is not BUY), else its unit cost now (``domain.inventory.valuation.unit_cost_now``: average,
else standard cost, else 0). Odoo's ``_compute_bom_price`` ignores both scraps; we
don't: 2% line scrap means 1.02 of the component is consumed per unit used, and 2%
parent scrap means 1/0.98 units are started per good unit.

Items are visited by descending low-level code (``domain.planning.lowlevel``: every
component before all its parents), so each made item is computed once from finished
component costs. Items on a BOM cycle (refused by ``setBom``, possible only in data
written around it) get no roll-up; a parent using one takes its unit cost now.

Exactness: the per-line factor ``quantity × (1 + line scrap)`` and the divisor
``output_quantity × (1 − item scrap)`` are exact products of the stored decimals;
each item's cost is one division of an exact sum, carried at ``CONTEXT`` precision
(50 significant digits) into its parents. Nothing is rounded to the stored 10 places
(``domain.inventory.valuation.exact``) before the end, so a deep tree drifts by no
more than one rounding at the 50th digit per level.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from operator import mul
from typing import NamedTuple

from domain.inventory.valuation import exact
from domain.planning.lowlevel import low_level_codes

ZERO = Decimal(0)
ONE = Decimal(1)
# set once around a whole roll-up (not per item): digits far beyond the 10 places stored
CONTEXT = Context(prec=50, rounding=ROUND_HALF_EVEN)


def line_factor(quantity: Decimal, scrap_rate: Decimal) -> Decimal:
    """Component consumed per ``output_quantity`` of the parent: ``quantity × (1 + scrap)`` (exact)."""
    with localcontext(CONTEXT):
        return quantity * (ONE + scrap_rate) if scrap_rate else quantity


class CostItem(NamedTuple):
    """An item as the roll-up sees it (a named tuple: the job builds 200,000 of them).

    ``components`` and ``factors`` are its BOM lines in order (``factors`` from
    :func:`line_factor`); ``has_bom`` is False for an item without a BOM, or one whose
    lines were not loaded (a bought item met below a made one: only its cost now counts).
    """

    id: int
    unit_cost_now: Decimal
    procurement: str = "BUY"
    has_bom: bool = False
    scrap_rate: Decimal = ZERO
    output_quantity: Decimal = ONE
    components: tuple[int, ...] = ()
    factors: tuple[Decimal, ...] = ()

    @property
    def made(self) -> bool:
        """Its parents take its roll-up (not its cost now)."""
        return self.has_bom and self.procurement != "BUY"

    def divisor(self) -> Decimal:
        """``output_quantity × (1 − scrap_rate)``: good units per run of the lines.

        Exact in any context of 27 digits or more (the default has 28): a quantity has at
        most 20 digits, 1 − scrap at most 7. No context switch: it is called once per item.
        """
        if not self.scrap_rate:
            return self.output_quantity
        return self.output_quantity * (ONE - self.scrap_rate)


@dataclass
class Rollup:
    """The result: ``unit_costs`` of every item with a BOM that could be rolled up (at
    ``CONTEXT`` precision; :func:`domain.inventory.valuation.exact` to store), and
    ``cost`` of every item as its parents see it (roll-up when made, else cost now)."""

    unit_costs: dict[int, Decimal]
    cost: dict[int, Decimal]
    cycles: list[list[int]] = field(default_factory=list)


def roll_up(items: Mapping[int, CostItem]) -> Rollup:
    """Roll up every item of ``items`` (every component must be a key too)."""
    # as in domain.planning.mrp.plan: a catalogue makes a million small objects, none garbage;
    # generation-2 collections rescanning them were a quarter of the time at 200,000 items
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _roll_up(items)
    finally:
        if collecting:
            gc.enable()


def _roll_up(items: Mapping[int, CostItem]) -> Rollup:
    made = {item_id for item_id, item in items.items() if item.made}
    # only made items need an order (a bought component's cost is known from the start), and
    # only they can be on a cycle (a bought item's BOM is never walked)
    codes, cycles = low_level_codes(
        {item_id: list(filter(made.__contains__, items[item_id].components)) for item_id in made}
    )
    cost = {item_id: item.unit_cost_now for item_id, item in items.items()}
    unit_costs: dict[int, Decimal] = {}
    get = cost.__getitem__
    with localcontext(CONTEXT):
        for item_id in sorted(codes, key=codes.__getitem__, reverse=True):
            item = items[item_id]
            # C-level loops: one multiply and add per line, no Python frame per line
            total = sum(map(mul, item.factors, map(get, item.components)), ZERO)
            unit_costs[item_id] = cost[item_id] = total / item.divisor()
        # bought items with a BOM: what their BOM would cost, once every made cost is final
        for item_id, item in items.items():
            if item.has_bom and item_id not in made:
                total = sum(map(mul, item.factors, map(get, item.components)), ZERO)
                unit_costs[item_id] = total / item.divisor()
    return Rollup(unit_costs, cost, cycles)


@dataclass(frozen=True, slots=True)
class BreakdownLine:
    """One BOM line per ONE unit of the parent, both scraps applied (10 places)."""

    component_id: int
    quantity: Decimal
    unit_cost: Decimal
    extended_cost: Decimal


@dataclass(frozen=True, slots=True)
class Breakdown:
    """An item's roll-up with its lines; Σ ``extended_cost`` = ``unit_cost`` exactly."""

    item_id: int
    unit_cost: Decimal
    lines: tuple[BreakdownLine, ...]


def breakdown(item_id: int, items: Mapping[int, CostItem], rollup: Rollup) -> Breakdown | None:
    """The lines of one rolled-up item, each rounded to 10 places; None without a roll-up.

    A line's ``quantity`` is ``factor / divisor`` (component per one good unit of the
    parent) and its extended cost ``quantity × component cost`` before rounding. The
    rounded extended costs are made to add up to the rounded unit cost: the residue
    (a few units of the 10th place at most) goes to the line with the largest extended
    cost (the first of equals).
    """
    unit = rollup.unit_costs.get(item_id)
    if unit is None:
        return None
    item = items[item_id]
    unit_cost = exact(unit)
    with localcontext(CONTEXT):
        divisor = item.divisor()
        raw = [
            (component, factor / divisor, rollup.cost[component])
            for component, factor in zip(item.components, item.factors, strict=True)
        ]
        extended = [exact(quantity * cost) for _, quantity, cost in raw]
        residue = unit_cost - sum(extended, ZERO)
        if residue and extended:
            largest = max(range(len(extended)), key=lambda i: (abs(extended[i]), -i))
            extended[largest] += residue
    return Breakdown(item_id, unit_cost, tuple(
        BreakdownLine(component, exact(quantity), exact(cost), amount)
        for (component, quantity, cost), amount in zip(raw, extended, strict=True)
    ))
