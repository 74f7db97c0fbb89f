"""Available to promise: when can ``quantity`` more of an item be delivered?

``available_to_promise`` is a pure function over plain data; ``load_atp_inputs``
(``domain.sales.atp_inputs``) reads that data for a batch of items.
Item.availableToPromise and order confirmation both go through these two, so a
promise shown to a salesperson is the one an order gets.

Supply is taken in this order: stock available now (on hand − reserved, all
warehouses), then open scheduled receipts by due date after earlier promises have
claimed theirs (first promised, first served), then — for what no receipt covers —
replenishment: today + the item's lead time, or for a MAKE item the longest
cumulative lead time down its BOM. Receipts are the open quantities of purchase
order lines and of work orders (not yet completed) at their due dates; claims are the
backordered quantities of confirmed sales order lines at their promised dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Receipt:
    """An open purchase or work order line: ``quantity`` arrives on ``due``."""

    due: date
    quantity: Decimal


@dataclass(frozen=True)
class Claim:
    """Quantity already promised to an earlier order out of future receipts."""

    promised: date
    quantity: Decimal


@dataclass(frozen=True)
class Atp:
    available_now: Decimal
    date: date


@dataclass(frozen=True)
class BomNode:
    procurement: str
    lead_time_days: int
    components: tuple[int, ...] = ()


@dataclass
class AtpInputs:
    """Everything ATP needs about one item, as plain data."""

    available_now: Decimal
    replenishment_days: int
    receipts: list[Receipt] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)


def cumulative_lead_time(item_id: int, nodes: Mapping[int, BomNode]) -> int:
    """Days to replenish ``item_id``: its lead time, plus for MAKE the slowest component chain.

    A component that leads back to an item already on the path adds nothing, so a
    cyclic BOM (refused on write, but possible in imported data) cannot loop.
    """
    memo: dict[int, int] = {}

    def walk(node_id: int, path: frozenset[int]) -> int:
        if node_id in memo:
            return memo[node_id]
        node = nodes.get(node_id)
        if node is None:
            return 0
        days = node.lead_time_days
        if node.procurement == "MAKE":
            inner = path | {node_id}
            days += max(
                (walk(c, inner) for c in node.components if c not in inner), default=0
            )
        memo[node_id] = days
        return days

    return walk(item_id, frozenset())


def available_to_promise(
    quantity: Decimal,
    *,
    today: date,
    available_now: Decimal,
    replenishment_days: int,
    receipts: Iterable[Receipt] = (),
    claims: Iterable[Claim] = (),
) -> Atp:
    """Earliest date on which ``quantity`` can be delivered, and what stock covers now."""
    now = max(available_now, ZERO)
    if quantity <= now:
        return Atp(now, today)
    # Earlier promises consume the earliest receipts first.
    owed = sum((c.quantity for c in claims), ZERO)
    covered = now
    for receipt in sorted(receipts, key=lambda r: r.due):
        claimed = min(owed, receipt.quantity)
        owed -= claimed
        covered += receipt.quantity - claimed
        if receipt.quantity > claimed and covered >= quantity:
            return Atp(now, max(receipt.due, today))
    return Atp(now, today + timedelta(days=replenishment_days))


def promise(quantity: Decimal, inputs: AtpInputs, today: date) -> Atp:
    return available_to_promise(
        quantity,
        today=today,
        available_now=inputs.available_now,
        replenishment_days=inputs.replenishment_days,
        receipts=inputs.receipts,
        claims=inputs.claims,
    )
