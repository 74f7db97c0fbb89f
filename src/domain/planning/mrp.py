"""Time-phased MRP netting over plain data: ``plan(items, demands, receipts, start, horizon)``.

Items are netted one at a time in low-level-code order, so every parent has added its
dependent demand before its components are netted. For one item, events are walked by
day (never day by day over the horizon): on each day with a receipt or a demand, scheduled
receipts arrive first, then demands are taken in date-then-input order. Demands and
receipts dated before ``start_date`` count on ``start_date``; demands on or after
``start_date + horizon_days`` are outside the plan.

Safety stock is a SAFETY_STOCK demand of the safety-stock quantity on ``start_date``,
taken before any other demand, so stock is kept for it first and a shortfall at the
start (including negative available stock) is pegged to it.

A planned order is due on a day whose demands would take projected stock below safety
stock. Its *net requirement* is that shortfall: the good quantity needed to bring stock
back to safety stock on its due day, after on-hand stock, scheduled receipts and earlier
planned orders. Its pegging lists the demands (or parts of demands) making up the
shortfall, and the pegged quantities add up to exactly the net requirement. The quantity
ordered is the net requirement inflated by item scrap and lot sizing (see
``lotsizing.order_quantity``); the good quantity above the net requirement is unpegged
stock that covers later demands before any later planned order is made.

Components are exploded for MAKE and SUBCONTRACT items with a BOM (a subcontractor is
sent the components); a BUY item's BOM, if any, is not exploded.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from itertools import count

from domain.planning.data import (
    PLANNED_ORDER,
    Demand,
    DemandSource,
    Message,
    OrderKind,
    Peg,
    Plan,
    PlanItem,
    PlannedOrder,
    Receipt,
)
from domain.planning.lotsizing import (
    CEILING,
    ONE,
    ZERO,
    fixed_lot,
    good_quantity,
    lot_size_problem,
    lots_needed,
    order_quantity,
    up,
)
from domain.planning.lowlevel import low_level_codes
from domain.shared.numbers import quantity_text

KIND: dict[str, OrderKind] = {"BUY": "PURCHASE", "MAKE": "PRODUCTION", "SUBCONTRACT": "SUBCONTRACT"}

# (day ordinal, sequence, quantity, source, ref, demand date, parent planned order id)
_Need = tuple[int, int, Decimal, DemandSource, str | None, date, int | None]


def plan(
    items: Iterable[PlanItem],
    demands: Iterable[Demand],
    receipts: Iterable[Receipt],
    start_date: date,
    horizon_days: int,
) -> Plan:
    """Plan orders so that projected stock of every item stays at or above its safety stock.

    See the module docstring for the netting, safety-stock and pegging rules. Planned
    order ids are 1, 2, … in the order the orders are made (low-level code, then date).
    """
    # A large plan makes millions of small acyclic objects; each generation-2 collection
    # would rescan all of them (a third of the run time at 200,000 items), and none is garbage.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _plan(items, demands, receipts, start_date, horizon_days)
    finally:
        if collecting:
            gc.enable()


def _plan(
    items: Iterable[PlanItem],
    demands: Iterable[Demand],
    receipts: Iterable[Receipt],
    start_date: date,
    horizon_days: int,
) -> Plan:
    by_id = {item.id: item for item in items}
    messages: list[Message] = []
    lines = _explosion(by_id, messages)
    codes, cycles = low_level_codes({item_id: [c for c, _ in below] for item_id, below in lines.items()})
    for cycle in cycles:
        listed = ", ".join(str(member) for member in cycle[:20]) + (", …" if len(cycle) > 20 else "")
        for member in cycle:
            messages.append(Message(member, "ERROR", f"BOM cycle through items {listed}: not planned", "CYCLE"))

    start = start_date.toordinal()
    end = start + horizon_days
    sequence = count()
    needs: dict[int, list[_Need]] = {}
    unknown: set[int] = set()
    for demand in demands:
        day = demand.date.toordinal()
        if day >= end or demand.quantity <= 0:
            continue
        if demand.item_id not in by_id:
            unknown.add(demand.item_id)
            continue
        need: _Need = (max(day, start), next(sequence), demand.quantity, demand.source, demand.ref, demand.date, None)
        needs.setdefault(demand.item_id, []).append(need)
    supply: dict[int, list[tuple[int, Decimal]]] = {}
    for receipt in receipts:
        day = receipt.date.toordinal()
        if day < end and receipt.quantity and receipt.item_id in by_id:
            supply.setdefault(receipt.item_id, []).append((max(day, start), receipt.quantity))
    for item_id in sorted(unknown):
        messages.append(Message(item_id, "WARNING", "demand for an unknown item: not planned", "UNKNOWN_ITEM"))

    orders: list[PlannedOrder] = []
    order_ids = count(1)
    dates: dict[int, date] = {}
    for item_id in sorted(codes, key=codes.__getitem__):
        item = by_id[item_id]
        problem = lot_size_problem(item)
        if problem:
            messages.append(Message(item_id, "WARNING", problem, "BAD_LOT_SIZE"))
        made = _net(item, needs.pop(item_id, []), supply.pop(item_id, []), start_date, start, order_ids, dates)
        if not made:
            continue
        orders.extend(made)
        components = lines[item_id]
        for order in made:
            if order.release_date < start_date:
                messages.append(Message(
                    item_id, "WARNING",
                    f"planned order {PLANNED_ORDER} of {quantity_text(order.quantity)} should have been "
                    f"released on {order.release_date.isoformat()}, before the start date {start_date.isoformat()}",
                    "LATE", order.id,
                ))
            if components:
                _explode(order, components, item.bom_output_quantity, start, needs, sequence)
    return Plan(planned_orders=orders, messages=messages)


def _explosion(by_id: dict[int, PlanItem], messages: list[Message]) -> dict[int, list[tuple[int, Decimal]]]:
    """Per item, the components it explodes into and ``line quantity × (1 + line scrap)``."""
    lines: dict[int, list[tuple[int, Decimal]]] = {}
    for item_id, item in by_id.items():
        below: list[tuple[int, Decimal]] = []
        if item.procurement != "BUY":
            if not item.has_bom and item.procurement == "MAKE":
                messages.append(Message(item_id, "WARNING", "MAKE item without a BOM: components not planned",
                                        "NO_BOM"))
            for line in item.bom:
                if line.component_id not in by_id:
                    messages.append(Message(item_id, "ERROR", f"BOM component {line.component_id} is unknown: "
                                            "line ignored", "UNKNOWN_ITEM"))
                elif line.quantity > 0:
                    factor = line.quantity * (ONE + line.scrap_rate) if line.scrap_rate else line.quantity
                    below.append((line.component_id, factor))
        lines[item_id] = below
    return lines


def _net(
    item: PlanItem,
    needs: list[_Need],
    supply: list[tuple[int, Decimal]],
    start_date: date,
    start: int,
    order_ids: count[int],
    dates: dict[int, date],
) -> list[PlannedOrder]:
    on_hand = item.on_hand_available
    safety = item.safety_stock
    if on_hand < 0:
        safety -= on_hand
        on_hand = ZERO
    if safety > 0:
        # sequence -1 sorts it before every other demand on the start day
        needs.append((start, -1, safety, "SAFETY_STOCK", None, start_date, None))
    if not needs:
        return []
    needs.sort()
    supply.sort()
    kind = KIND[item.procurement]
    lot = fixed_lot(item)
    if lot is not None and good_quantity(item, lot) <= 0:
        lot = None  # a lot too small to yield anything once scrapped: one order, lot sizing as usual
    lead = item.lead_time_days
    scrap = item.scrap_rate
    free = on_hand  # projected stock less the safety stock, once its demand has been taken
    made: list[PlannedOrder] = []
    n_supply = len(supply)
    s = 0
    n_needs = len(needs)
    i = 0
    while i < n_needs:
        day = needs[i][0]
        while s < n_supply and supply[s][0] <= day:
            free += supply[s][1]
            s += 1
        pegs: list[Peg] | None = None
        while i < n_needs and needs[i][0] == day:
            _, _, quantity, source, ref, when, parent = needs[i]
            i += 1
            if free >= quantity:
                free -= quantity
                continue
            short = quantity - free if free > 0 else quantity
            free -= quantity
            if pegs is None:
                pegs = [Peg(source, ref, short, when, parent)]
            else:
                pegs.append(Peg(source, ref, short, when, parent))
        if pegs is None:
            continue
        due = dates.get(day)
        if due is None:
            due = dates[day] = date.fromordinal(day)
        release = dates.get(day - lead)
        if release is None:
            release = dates[day - lead] = date.fromordinal(day - lead)
        if lot is not None:
            # several orders of exactly one lot; each pegs what its good quantity covers
            capacity = good_quantity(item, lot)
            for share in _split(pegs, capacity, lots_needed(item, lot, -free)):
                made.append(PlannedOrder(next(order_ids), item.id, kind, lot, release, due, share))
                free += capacity
            continue
        quantity = order_quantity(item, -free)
        free += good_quantity(item, quantity) if scrap else quantity
        made.append(PlannedOrder(next(order_ids), item.id, kind, quantity, release, due, pegs))
    return made


def _split(pegs: list[Peg], capacity: Decimal, orders: int) -> list[list[Peg]]:
    """``pegs`` in order, cut into ``orders`` groups of at most ``capacity`` (the last takes the rest)."""
    groups: list[list[Peg]] = [[]]
    room = capacity
    for peg in pegs:
        left = peg.quantity
        while left > 0:
            if room == 0 and len(groups) < orders:
                groups.append([])
                room = capacity
            take = left if len(groups) == orders else min(left, room)
            groups[-1].append(replace(peg, quantity=take))
            left -= take
            room -= min(take, room)
    return groups


def _explode(
    order: PlannedOrder,
    lines: list[tuple[int, Decimal]],
    output: Decimal,
    start: int,
    needs: dict[int, list[_Need]],
    sequence: count[int],
) -> None:
    released = order.release_date
    day = max(released.toordinal(), start)
    planned = order.quantity
    order_id = order.id
    multiply = CEILING.multiply
    divide = None if output == ONE else CEILING.divide
    for component_id, factor in lines:
        product = multiply(planned, factor)
        if divide is not None:
            product = divide(product, output)
        need: _Need = (day, next(sequence), up(product), "DEPENDENT", None, released, order_id)
        bucket = needs.get(component_id)
        if bucket is None:
            needs[component_id] = [need]
        else:
            bucket.append(need)
