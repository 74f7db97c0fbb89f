"""Actual cost of completed work orders, and how a cost difference reaches the stock.

Plain functions over plain data; ``domain.costing.services`` loads the figures and
saves the results.

- material = the ledger value of the components issued to the work order;
- overhead = its share of the period's pool (``domain.costing.allocation``), by
  completed quantity or by labour hours;
- total = material + overhead; unit cost = total / completed quantity.

Stock received from a work order came in at a provisional cost. Once its actual cost
is known, the difference between it and what the work order has been charged so far
(its PRODUCTION values, earlier revaluations and earlier variance) is split: the part
for the units still on hand revalues the item's stock, the rest (units already issued
or shipped at the old cost) is the work order's cost variance. The units still on hand
are assigned to the item's work orders latest-completed first: stock leaves at the
average, so what remains is, by quantity, most plausibly the latest production.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.costing.allocation import allocate
from domain.costing.models import AllocationBasis
from domain.inventory.valuation import exact

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CompletedOrder:
    """What costing needs of a completed work order."""

    id: int
    item_id: int
    completed_quantity: Decimal
    labor_hours: Decimal
    completed_on: date


@dataclass(frozen=True, slots=True)
class OrderCost:
    weight: Decimal
    material: Decimal
    overhead: Decimal
    total: Decimal
    unit_cost: Decimal


def weight(order: CompletedOrder, basis: AllocationBasis) -> Decimal:
    return order.labor_hours if basis == AllocationBasis.LABOR_HOURS else order.completed_quantity


def cost_orders(
    orders: Sequence[CompletedOrder],
    material: Mapping[int, Decimal],
    pool: Decimal,
    basis: AllocationBasis,
) -> dict[int, OrderCost]:
    """The cost of each order; ``material`` by order id (missing: nothing issued).

    Raises ValueError when the orders' weights add up to zero (the caller checks first).
    """
    weights = {order.id: weight(order, basis) for order in orders}
    overhead = allocate(pool, weights)
    costs: dict[int, OrderCost] = {}
    for order in orders:
        mat = material.get(order.id, ZERO)
        total = mat + overhead[order.id]
        costs[order.id] = OrderCost(
            weight=weights[order.id], material=mat, overhead=overhead[order.id], total=total,
            unit_cost=exact(total / order.completed_quantity),
        )
    return costs


def on_hand_parts(
    orders: Sequence[CompletedOrder], produced: Mapping[int, Decimal], on_hand: Decimal
) -> dict[int, Decimal]:
    """How many of each order's produced units (all of one item) are still on hand.

    ``on_hand`` (the item's quantity over all warehouses; negative counts as none) is
    given to the latest-completed order first (ties: the highest id), each taking at
    most what it produced.
    """
    remaining = max(on_hand, ZERO)
    parts: dict[int, Decimal] = {}
    for order in sorted(orders, key=lambda o: (o.completed_on, o.id), reverse=True):
        part = min(remaining, max(produced.get(order.id, ZERO), ZERO))
        parts[order.id] = part
        remaining -= part
    return parts


@dataclass(frozen=True, slots=True)
class Difference:
    """A work order's cost difference: revalue the stock by one part, record the other as variance."""

    revalue: Decimal
    variance: Decimal


def actual_value(cost: OrderCost, completed_quantity: Decimal, produced: Decimal) -> Decimal:
    """What the ``produced`` units received from the order are worth at its actual cost."""
    if produced == completed_quantity:
        return cost.total  # exactly produced × unit cost, without the unit cost's rounding
    return exact(cost.total * produced / completed_quantity)


def split(difference: Decimal, produced: Decimal, on_hand: Decimal) -> Difference:
    """``difference`` × on hand / produced revalues the stock; the rest is variance."""
    if produced <= 0 or difference == 0:
        return Difference(ZERO, difference)
    revalue = exact(difference * min(on_hand, produced) / produced)
    return Difference(revalue, difference - revalue)
