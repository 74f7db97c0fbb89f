"""How much to order for a net requirement: item scrap, lot-sizing rule, whole units.

Every quantity leaving here has at most six decimal places (the database's ``Quantity``
scale) and is rounded up, so sums of pegged quantities stay exact Decimal arithmetic.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal

from domain.planning.data import COUNTABLE_UOMS, PlanItem

PLACES = Decimal("0.000001")
ZERO = Decimal(0)
ONE = Decimal(1)
# divisions round up, so rounding at the 28th digit never lands just below the true value
CEILING = Context(prec=28, rounding=ROUND_CEILING)


def up(quantity: Decimal) -> Decimal:
    """``quantity`` rounded up to the quantity scale (six places)."""
    return quantity.quantize(PLACES, rounding=ROUND_CEILING)


def round_up_to(quantity: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of ``step`` that is at least ``quantity`` (``step`` > 0)."""
    lots, rest = divmod(quantity, step)
    return (lots + 1) * step if rest else lots * step


def fixed_lot(item: PlanItem) -> Decimal | None:
    """The quantity of every planned order of a FIXED_ORDER_QUANTITY item; None for other rules.

    The item's fixed lot size, rounded up to whole units for a countable unit of measure;
    None too when the lot size is missing or not positive (the caller reports it).
    """
    lot = item.fixed_lot_size
    if item.lot_sizing != "FIXED_ORDER_QUANTITY" or lot is None or lot <= 0:
        return None
    return lot.to_integral_value(ROUND_CEILING) if item.uom in COUNTABLE_UOMS else lot


def lots_needed(item: PlanItem, lot: Decimal, net: Decimal) -> int:
    """How many orders of ``lot`` (see :func:`fixed_lot`) cover ``net`` (> 0) good units."""
    good = good_quantity(item, lot)
    return int(CEILING.divide(net, good).to_integral_value(ROUND_CEILING))


def order_quantity(item: PlanItem, net: Decimal) -> Decimal:
    """Planned quantity for ``net`` (> 0) good units still needed, as one order.

    ``net / (1 − scrap)`` rounded up to the scale, then to whole units for a countable
    unit of measure, then the lot-sizing rule: LOT_FOR_LOT as is; FIXED_ORDER_QUANTITY the
    fewest whole lots covering it (MRP plans them as that many orders of one lot each, see
    :func:`fixed_lot`); MIN_MULTIPLE at least the minimum, rounded up to a
    multiple. A fixed lot or multiple that is missing or not positive is ignored (the
    caller reports it). Countable items end in whole units again, in case a lot is
    fractional.
    """
    needed = CEILING.divide(net, ONE - item.scrap_rate).quantize(PLACES, ROUND_CEILING) if item.scrap_rate else net
    countable = item.uom in COUNTABLE_UOMS
    if countable:
        needed = needed.to_integral_value(ROUND_CEILING)
    rule = item.lot_sizing
    if rule == "FIXED_ORDER_QUANTITY":
        lot = item.fixed_lot_size
        if lot is not None and lot > 0:
            needed = round_up_to(needed, lot)
    elif rule == "MIN_MULTIPLE":
        minimum = item.min_order_quantity
        if minimum is not None and minimum > needed:
            needed = minimum
        multiple = item.lot_multiple
        if multiple is not None and multiple > 0:
            needed = round_up_to(needed, multiple)
    else:
        return needed
    if countable:
        needed = needed.to_integral_value(ROUND_CEILING)
    return needed


def good_quantity(item: PlanItem, planned: Decimal) -> Decimal:
    """What a planned order adds to stock: ``planned × (1 − scrap)``, rounded down to the scale."""
    if not item.scrap_rate:
        return planned
    return (planned * (ONE - item.scrap_rate)).quantize(PLACES, rounding=ROUND_FLOOR)


def lot_size_problem(item: PlanItem) -> str | None:
    """Why the item's lot-sizing settings cannot be applied as given, if they cannot."""
    if item.lot_sizing == "FIXED_ORDER_QUANTITY" and not (item.fixed_lot_size and item.fixed_lot_size > 0):
        return "FIXED_ORDER_QUANTITY without a positive fixed lot size: planned lot for lot"
    if item.lot_sizing == "MIN_MULTIPLE" and item.lot_multiple is not None and item.lot_multiple <= 0:
        return "MIN_MULTIPLE with a lot multiple that is not positive: multiple ignored"
    return None
