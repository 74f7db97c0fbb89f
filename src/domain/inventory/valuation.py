"""Moving-average valuation of one item: the rule, over plain numbers.

The item's stock carries one average unit cost across all warehouses (as Tryton's
``cost_price`` and ERPNext's moving-average valuation rate). A receipt of ``q`` at
``u`` with ``Q`` on hand worth ``V`` moves the average to ``(V + u·q) / (Q + q)``, or
to ``u`` when ``Q <= 0``; everything that leaves (issues, shipments, transfers,
decreases) leaves at the average of that moment, and that value is stored on the
ledger row, so later receipts never rewrite history. ``V`` is ``c·Q`` kept as the sum
of the ledger values, so the stock value of an item always equals that sum.

The traps the open ERPs fell into, and what keeps us out of them:

- rounding drift (a cent lost per receive/issue cycle when the rate is rounded to
  cents): the average and the values keep ``PLACES`` decimals; cents are for documents;
- a residue left when the last unit leaves (value ≠ 0 at quantity 0): the issue that
  empties the stock takes the whole remaining value;
- costs going negative with negative stock: a receipt onto ``Q <= 0`` takes the
  receipt's own cost, never a blend with a negative quantity;
- a receipt at zero cost is a real cost (it lowers the average); a receipt with *no*
  cost (``None``) comes in at the current average, so it does not.
- a value-only change (revaluation) with nothing on hand cannot be carried by stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

# decimals kept on averages and ledger values (the columns are NUMERIC(32, 10))
PLACES = 10
_EXACT = Decimal(1).scaleb(-PLACES)
ZERO = Decimal(0)


def exact(amount: Decimal) -> Decimal:
    """``amount`` at the stored precision (banker's rounding, so no side drifts)."""
    return amount.quantize(_EXACT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Valuation:
    """An item's stock as valued: quantity on hand, its value, and the average.

    ``average`` is None until the item has received stock with a cost.
    """

    quantity: Decimal = ZERO
    value: Decimal = ZERO
    average: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    """What one ledger row carries: its unit cost and signed value."""

    unit_cost: Decimal
    value: Decimal


def receive(state: Valuation, quantity: Decimal, unit_cost: Decimal) -> tuple[Valuation, Movement]:
    """``quantity`` (> 0) arrives at ``unit_cost``."""
    value = exact(quantity * unit_cost)
    new_quantity = state.quantity + quantity
    new_value = state.value + value
    if state.quantity <= 0 or new_quantity <= 0:
        average = unit_cost
    else:
        average = exact(new_value / new_quantity)
    return Valuation(new_quantity, new_value, average), Movement(unit_cost, value)


def issue(state: Valuation, quantity: Decimal) -> tuple[Valuation, Movement]:
    """``quantity`` (> 0) leaves at the current average; the last unit takes what is left."""
    average = state.average if state.average is not None else ZERO
    new_quantity = state.quantity - quantity
    if new_quantity == 0:
        value = -state.value
    else:
        value = -exact(quantity * average)
    return Valuation(new_quantity, state.value + value, state.average), Movement(average, value)


def revalue(state: Valuation, amount: Decimal) -> Valuation:
    """Add ``amount`` to the value of the stock on hand (> 0); the average follows."""
    if state.quantity <= 0:
        raise ValueError("nothing on hand to revalue")
    new_value = state.value + amount
    return Valuation(state.quantity, new_value, exact(new_value / state.quantity))


def unit_cost_now(average: Decimal | None, standard_cost: Decimal | None) -> Decimal:
    """What a unit of an item costs now: its average, else (no stock ever came in with a
    cost) its standard cost, else zero. The roll-up and quote pricing use it too."""
    if average is not None:
        return average
    if standard_cost is not None:
        return standard_cost
    return ZERO


def incoming_cost(given: Decimal | None, state: Valuation, standard_cost: Decimal | None) -> Decimal:
    """The unit cost a receipt comes in at: the given one, else the unit cost now."""
    return given if given is not None else unit_cost_now(state.average, standard_cost)
