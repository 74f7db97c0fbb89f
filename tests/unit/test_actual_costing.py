"""The actual-cost rules (domain.costing.actual) over plain data, hand-computed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.costing.actual import (
    CompletedOrder,
    Difference,
    OrderCost,
    actual_value,
    cost_orders,
    on_hand_parts,
    split,
)
from domain.costing.models import AllocationBasis

D = Decimal
DAY = date(2026, 3, 10)


def order(id: int, quantity: str, hours: str = "0", day: date = DAY, item: int = 1) -> CompletedOrder:
    return CompletedOrder(id, item, D(quantity), D(hours), day)


def test_cost_of_two_orders_by_quantity_and_by_hours() -> None:
    """Pool 100.05. By quantity 3 : 7 → 30.015 / 70.035 → 30.02 + 70.04 − 0.01 (the residue,
    to the largest) = 30.02 + 70.03. By hours 7 : 3 the other way round: 70.03 + 30.02.
    Order 1: material 9.00 → total 39.02, unit 13.0066666667 (39.02 / 3 at 10 places)."""
    orders = [order(1, "3", "7"), order(2, "7", "3")]
    by_quantity = cost_orders(orders, {1: D("9.00"), 2: D("10.50")}, D("100.05"), AllocationBasis.OUTPUT_QUANTITY)
    assert by_quantity[1] == OrderCost(D(3), D("9.00"), D("30.02"), D("39.02"), D("13.0066666667"))
    assert by_quantity[2] == OrderCost(D(7), D("10.50"), D("70.03"), D("80.53"), D("11.5042857143"))
    by_hours = cost_orders(orders, {}, D("100.05"), AllocationBasis.LABOR_HOURS)
    assert (by_hours[1].overhead, by_hours[2].overhead) == (D("70.03"), D("30.02"))
    assert by_hours[1].material == 0 and by_hours[1].total == D("70.03")  # nothing issued


def test_no_weight_to_allocate_by_is_refused() -> None:
    with pytest.raises(ValueError):
        cost_orders([order(1, "3")], {}, D("10"), AllocationBasis.LABOR_HOURS)


def test_units_on_hand_go_to_the_latest_completed_order_first() -> None:
    """Item on hand 12; orders produced 10 (day 1), 5 (day 3), 4 (day 3, id 9): the day-3
    orders come first, the higher id first: 4 + 5, then 3 of the day-1 order's 10."""
    orders = [order(1, "10", day=date(2026, 3, 1)), order(2, "5", day=date(2026, 3, 3)),
              order(9, "4", day=date(2026, 3, 3))]
    parts = on_hand_parts(orders, {1: D(10), 2: D(5), 9: D(4)}, D(12))
    assert parts == {9: D(4), 2: D(5), 1: D(3)}
    assert on_hand_parts(orders, {1: D(10), 2: D(5), 9: D(4)}, D(-2)) == {9: D(0), 2: D(0), 1: D(0)}


def test_split_revalues_the_part_on_hand() -> None:
    """D = 24.02 over 3 produced, 2 on hand: 16.0133333333 revalued, 8.0066666667 variance."""
    assert split(D("24.02"), D(3), D(2)) == Difference(D("16.0133333333"), D("8.0066666667"))
    assert split(D("24.02"), D(3), D(5)).revalue == D("24.02")  # more on hand than produced: all of it
    assert split(D("24.02"), D(3), D(0)).variance == D("24.02")
    assert split(D("5"), D(0), D(0)).variance == D("5")  # nothing received: all variance


def test_actual_value_of_what_was_received() -> None:
    cost = OrderCost(D(3), D("9"), D("30.02"), D("39.02"), D("13.0066666667"))
    assert actual_value(cost, D(3), D(3)) == D("39.02")  # not 3 × 13.0066666667 = 39.0200000001
    assert actual_value(cost, D(3), D(1)) == D("13.0066666667")
