"""``simulateQuote``: price lines for a target margin from the roll-up of now; saves nothing.

Like Shopify's ``draftOrderCalculate``: the answer a quote would get, without the
quote. Each line's unit cost is what a parent would take for the item
(``domain.costing.rollup``: a made item's roll-up from the costs of now, the same one
``Item.bomCost`` shows; a bought item's unit cost now); the prices follow
``domain.costing.target_margin``. The input is checked as a quote's is (customer,
items orderable, quantities, line count) and the target margin must be 0 ≤ m < 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.costing.target_margin import HUNDRED, Simulation, simulate
from domain.costing.tree import roll_up_trees
from domain.inventory.items import orderable_items
from domain.inventory.valuation import exact
from domain.sales.orders import require_customer
from domain.sales.pricing import check_line
from domain.shared.errors import Problems
from domain.shared.limits import check_line_count
from domain.shared.numbers import check_decimal

MARGIN_FIELD = "targetMarginPercent"


@dataclass(frozen=True)
class SimulatedLine:
    item_id: int
    quantity: Decimal


@dataclass(frozen=True)
class QuoteSimulationRequest:
    customer_id: int
    lines: list[SimulatedLine]
    target_margin_percent: Decimal


def check(request: QuoteSimulationRequest) -> None:
    """INVALID for an empty or too long list of lines, a bad quantity, a target margin outside [0, 100)."""
    problems = Problems()
    margin = request.target_margin_percent
    check_decimal(problems, margin, MARGIN_FIELD, places=4, non_negative=True, label=MARGIN_FIELD)
    if margin.is_finite() and margin >= HUNDRED:
        problems.invalid(f"{MARGIN_FIELD} must be below 100 (a price cannot be all margin)", MARGIN_FIELD)
    if not request.lines:
        problems.invalid("at least one line is required", "lines")
    check_line_count(problems, request.lines)
    for i, line in enumerate(request.lines):
        check_line(problems, line.quantity, None, None, None, "lines", str(i))
    problems.raise_if_any()


async def simulate_quote(session: AsyncSession, request: QuoteSimulationRequest) -> Simulation:
    """The priced lines and totals; NOT_FOUND for an unknown customer or item (on its field),
    INVALID_STATE for an inactive item, as a quote would."""
    check(request)
    await require_customer(session, request.customer_id)
    item_ids = [line.item_id for line in request.lines]
    await orderable_items(session, item_ids)
    _, rollup = await roll_up_trees(session, item_ids)
    return simulate(
        [(line.item_id, line.quantity, exact(rollup.cost[line.item_id])) for line in request.lines],
        request.target_margin_percent,
    )
