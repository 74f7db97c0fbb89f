"""Properties of MRP netting on random BOM DAGs, checked against an independent simulation.

The simulation re-derives every item's projected stock from the plan alone: on-hand,
scheduled receipts, the good quantity of each planned order at its due date, independent
demand and the dependent demand each planned parent order implies at its release date.
It uses the module's documented rounding: dependent demand rounded up, good quantity
rounded down, both to six decimal places.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.planning import BomComponent, Demand, Plan, PlanItem, Receipt, plan
from domain.planning.data import LotSizing

START = date(2026, 3, 2)
HORIZON = 40
SIX = Decimal("0.000001")
RULES: tuple[LotSizing, ...] = ("LOT_FOR_LOT", "FIXED_ORDER_QUANTITY", "MIN_MULTIPLE")


def decimals(*values: str) -> st.SearchStrategy[Decimal]:
    return st.sampled_from([Decimal(v) for v in values])


@st.composite
def catalogues(draw: st.DrawFn) -> tuple[list[PlanItem], list[Demand], list[Receipt]]:
    n = draw(st.integers(1, 7))
    items = []
    for i in range(n):
        below = draw(st.lists(st.integers(i + 1, n - 1), unique=True, max_size=3)) if i < n - 1 else []
        bom = tuple(BomComponent(c, draw(decimals("1", "2", "0.5", "3", "0.3")), draw(decimals("0", "0.1", "0.05")))
                    for c in below)
        rule = draw(st.sampled_from(RULES))
        items.append(PlanItem(
            id=i,
            procurement="MAKE" if bom else draw(st.sampled_from(["BUY", "SUBCONTRACT"])),
            lead_time_days=draw(st.integers(0, 10)),
            safety_stock=draw(decimals("0", "0", "2", "5.5")),
            scrap_rate=draw(decimals("0", "0", "0.1", "0.25", "0.3")),
            lot_sizing=rule,
            fixed_lot_size=draw(decimals("1", "7", "12.5", "40")),
            min_order_quantity=draw(st.one_of(st.none(), decimals("0", "5", "30"))),
            lot_multiple=draw(st.one_of(st.none(), decimals("1", "4", "2.5"))),
            uom=draw(st.sampled_from(["pcs", "kg"])),
            on_hand_available=draw(decimals("0", "0", "3", "10", "-2", "1.5")),
            bom=bom,
            bom_output_quantity=draw(decimals("1", "1", "2", "3")),
            has_bom=bool(bom),
        ))
    dates = st.integers(-5, HORIZON + 5).map(lambda d: START + timedelta(days=d))
    quantities = st.decimals(min_value=Decimal("0.1"), max_value=Decimal(60), places=1)
    demands = draw(st.lists(st.builds(Demand, st.integers(0, n - 1), dates, quantities,
                                      st.sampled_from(["SALES_ORDER", "FORECAST"]), st.just("ref")), max_size=12))
    receipts = draw(st.lists(st.builds(Receipt, st.integers(0, n - 1), dates, quantities), max_size=5))
    return items, demands, receipts


def day_of(when: date) -> int:
    return max((when - START).days, 0)


def fixed_lot_of(item: PlanItem) -> Decimal | None:
    """Every order's quantity under FIXED_ORDER_QUANTITY: the lot, in whole units when counted."""
    if item.lot_sizing != "FIXED_ORDER_QUANTITY" or not item.fixed_lot_size:
        return None
    return Decimal(math.ceil(item.fixed_lot_size)) if item.uom == "pcs" else item.fixed_lot_size


def smallest_valid(item: PlanItem, shortfall: Decimal) -> Decimal:
    need = Decimal(shortfall) / (1 - item.scrap_rate)
    need = need.quantize(SIX, rounding=ROUND_CEILING)
    whole = item.uom == "pcs"
    if whole:
        need = Decimal(math.ceil(need))
    lot = fixed_lot_of(item)
    if lot is not None:
        good = (lot * (1 - item.scrap_rate)).quantize(SIX, rounding=ROUND_FLOOR)
        return math.ceil(Decimal(shortfall) / good) * lot
    if item.lot_sizing == "MIN_MULTIPLE":
        need = max(need, item.min_order_quantity or Decimal(0))
        if item.lot_multiple:
            need = math.ceil(need / item.lot_multiple) * item.lot_multiple
    return Decimal(math.ceil(need)) if whole else need


def ledgers(items: list[PlanItem], demands: list[Demand], receipts: list[Receipt],
            result: Plan) -> dict[int, list[tuple[int, Decimal, Any]]]:
    """Per item, (day, signed quantity, planned order or None) for every stock movement."""
    by_id = {item.id: item for item in items}
    moves: dict[int, list[tuple[int, Decimal, Any]]] = defaultdict(list)
    for d in demands:
        if (d.date - START).days < HORIZON:
            moves[d.item_id].append((day_of(d.date), -d.quantity, None))
    for r in receipts:
        moves[r.item_id].append((day_of(r.date), r.quantity, None))
    for order in result.planned_orders:
        item = by_id[order.item_id]
        good = (order.quantity * (1 - item.scrap_rate)).quantize(SIX, rounding=ROUND_FLOOR)
        moves[item.id].append(((order.due_date - START).days, good, order))
        for line in item.bom:
            need = order.quantity * line.quantity * (1 + line.scrap_rate) / item.bom_output_quantity
            moves[line.component_id].append(
                (day_of(order.release_date), -need.quantize(SIX, rounding=ROUND_CEILING), None))
    return moves


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogues())
def test_plan_covers_every_demand_with_no_more_than_lot_sizing_requires(
        catalogue: tuple[list[PlanItem], list[Demand], list[Receipt]]) -> None:
    items, demands, receipts = catalogue
    result = plan(items, demands, receipts, START, HORIZON)
    assert [m.code for m in result.messages if m.code != "LATE"] == []
    moves = ledgers(items, demands, receipts, result)
    for item in items:
        item_moves = moves[item.id]
        days = sorted({d for d, _, _ in item_moves} | {0})
        for d in days:
            # (1) projected stock at the end of every event day is at least safety stock
            projected = item.on_hand_available + sum((q for day, q, _ in item_moves if day <= d), Decimal(0))
            assert projected >= item.safety_stock, (item.id, d)
            due_today = [o for day, _, o in item_moves if o is not None and day == d]
            # one order a day, except several of exactly one lot each for FIXED_ORDER_QUANTITY
            lot = fixed_lot_of(item)
            assert len(due_today) <= 1 or lot is not None
            if due_today:
                ids = {id(o) for o in due_today}
                without = projected - sum((q for day, q, o in item_moves if id(o) in ids), Decimal(0))
                shortfall = item.safety_stock - without
                # the orders are needed, and (2) are the smallest quantity lot sizing allows
                assert shortfall > 0
                assert sum((o.quantity for o in due_today), Decimal(0)) == smallest_valid(item, shortfall)
                if lot is not None:
                    assert {o.quantity for o in due_today} == {lot}
                # (3) their pegs add up to the net requirement they cover, each within its order
                pegs = [p for o in due_today for p in o.pegging]
                assert sum((p.quantity for p in pegs), Decimal(0)) == shortfall
                assert all(p.quantity > 0 for p in pegs)
                for o in due_today:
                    good = (o.quantity * (1 - item.scrap_rate)).quantize(SIX, rounding=ROUND_FLOOR)
                    assert sum((p.quantity for p in o.pegging), Decimal(0)) <= good
