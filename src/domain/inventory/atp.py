"""Available and capable to promise: when can ``quantity`` more of an item be delivered?

``promise`` is one pure function over plain data (``AtpInputs`` per item, for the
item and everything its BOM and where-used chains reach); ``load_atp_inputs``
(``domain.sales.atp_inputs``) reads that data. Item.availableToPromise, order
confirmation and re-promising all go through these two, so a promise shown to a
salesperson is the one an order gets. ``Promiser`` makes promises in a row, each
claiming its share before the next (an order's lines, backorders re-promised in
claim order): the same dates as loading the earlier ones as claims.

The requested item:

1. What free stock (on hand − reserved, all warehouses) covers is promised today.
2. Beyond that, open scheduled receipts by due date, after earlier promises have
   claimed theirs (first promised, first served): the date of the receipt that
   completes the quantity, even if it is later than a new replenishment would be
   (supply on order is waited for, not ordered again).
3. The part that stock and receipts after claims do not cover is replenished
   (capable to promise): a BUY item takes its lead time; a MAKE item is ready on
   ``max over its BOM lines (date the component quantity is available) + its lead
   time``. As for a bought item, the receipts used for the rest are taken to arrive
   by then.

A component quantity (``component_requirement`` of the made quantity, which is
rounded up to whole units for countable units, as is the requirement) is taken from
the component's free stock, then its receipts after claims, then its own capability,
recursively; it is never later than ``today + cumulative lead time`` of the
component (MRP would rather plan a new order than wait for a late receipt). So a
made item is never promised later than the old worst case, ``today + cumulative lead
time`` down its BOM, and never earlier than its components allow.

Claims. ``AtpInputs.claims`` are the backorders of confirmed sales order lines of the
item at their promised dates. Component claims are derived from them here, not
stored: each item's claims (in promised order) take its supply (stock as a receipt
due today, then receipts by due date); the part of a MAKE item's claim that supply
does not cover was promised by making, so its component requirement claims each
component at ``promised − lead time``, and so on down. Two orders are thus never
promised the same components. What open work orders still have to issue
(``AtpInputs.to_issue``, at their start dates) claims components the same way, so
a work order that covers a backorder takes its components, and the backorder does
not take them a second time. Claims only matter beyond free stock for the requested
item itself (step 1 is unchanged: whoever confirms first reserves the stock). A
confirmation locks the balances of its own items only, so two made items confirmed at
the same moment may both be promised one component's stock (a promise, never a
reservation); the next re-promise of that component's supply sets it right.

``limited_by`` names the item whose availability sets the date: None when stock
covers, the item itself when its receipts or its own lead time do, else the
component (at any depth) whose availability is the latest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from domain.production.requirements import component_requirement, whole_units_up

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class Receipt:
    """An open purchase or work order line: ``quantity`` arrives on ``due``."""

    due: date
    quantity: Decimal


@dataclass(frozen=True)
class Claim:
    """Quantity already promised to an earlier order, due on ``promised``."""

    promised: date
    quantity: Decimal


@dataclass(frozen=True)
class Atp:
    available_now: Decimal
    date: date
    limited_by: int | None = None


@dataclass(frozen=True)
class Component:
    """A BOM line: ``quantity`` of ``component_id`` (scrap ``scrap_rate``) per output."""

    component_id: int
    quantity: Decimal
    scrap_rate: Decimal = ZERO


@dataclass
class AtpInputs:
    """Everything ATP needs about one item, as plain data."""

    available_now: Decimal
    lead_time_days: int
    receipts: list[Receipt] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    # what open work orders still have to issue of the item, when they start
    to_issue: list[Claim] = field(default_factory=list)
    procurement: str = "BUY"
    components: tuple[Component, ...] = ()
    output_quantity: Decimal = ONE
    uom: str = "pcs"


def cumulative_lead_time(item_id: int, items: Mapping[int, AtpInputs]) -> int:
    """Days to replenish ``item_id`` from nothing: its lead time, plus for MAKE the
    slowest component chain.

    A component that leads back to an item already on the path adds nothing, so a
    cyclic BOM (refused on write, but possible in imported data) cannot loop.
    """
    memo: dict[int, int] = {}

    def walk(node_id: int, path: frozenset[int]) -> int:
        if node_id in memo:
            return memo[node_id]
        node = items.get(node_id)
        if node is None:
            return 0
        days = node.lead_time_days
        if node.procurement == "MAKE":
            inner = path | {node_id}
            days += max(
                (walk(c.component_id, inner) for c in node.components if c.component_id not in inner),
                default=0,
            )
        memo[node_id] = days
        return days

    return walk(item_id, frozenset())


@dataclass
class _Lot:
    due: date
    left: Decimal


def _take(lots: list[_Lot], quantity: Decimal) -> tuple[Decimal, date | None]:
    """Take up to ``quantity`` from the lots, earliest first: what was taken, and the
    due date of the lot that completed it (None if they fall short)."""
    taken = ZERO
    for lot in lots:
        if taken >= quantity:
            break
        if lot.left <= 0:
            continue
        share = min(lot.left, quantity - taken)
        lot.left -= share
        taken += share
        if taken >= quantity:
            return taken, lot.due
    return taken, None


class Promiser:
    """Promises one after another over the same data (``promise`` for one).

    Each ``promise`` works on a copy of the supply left after the claims; ``claim``
    records a promise just made so that the next one queues behind it (a line of an
    order, a backorder being re-promised), without replaying every claim again.
    """

    def __init__(self, items: Mapping[int, AtpInputs], today: date) -> None:
        self.items = items
        self.today = today
        self.parents: dict[int, list[int]] = defaultdict(list)
        for item_id, item in items.items():
            if item.procurement == "MAKE":
                for c in item.components:
                    self.parents[c.component_id].append(item_id)
        self.lots: dict[int, list[_Lot]] = {}
        self.made: dict[int, list[Claim]] = {}  # per item: claims' parts left to make
        self.busy: set[int] = set()
        self.cumulative: dict[int, int] = {}
        # claims recorded on items whose supply is not computed yet
        self.pending: dict[int, list[Claim]] = defaultdict(list)
        self.scratch: dict[int, list[_Lot]] = {}  # the supply one promise takes from

    def supply(self, item_id: int) -> list[_Lot]:
        """The item's stock and receipts after every claim on it, own and derived."""
        lots = self.lots.get(item_id)
        if lots is not None:
            return lots
        self.busy.add(item_id)
        item = self.items[item_id]
        lots = [_Lot(self.today, max(item.available_now, ZERO))]
        lots += [_Lot(max(r.due, self.today), r.quantity) for r in sorted(item.receipts, key=lambda r: r.due)]
        claims = sorted(
            [*item.claims, *item.to_issue, *self._derived(item_id), *self.pending.pop(item_id, [])],
            key=lambda c: c.promised,
        )
        made: list[Claim] = []
        for claim in claims:
            taken, _ = _take(lots, claim.quantity)
            if taken < claim.quantity:
                made.append(Claim(claim.promised, claim.quantity - taken))
        self.lots[item_id], self.made[item_id] = lots, made
        self.busy.discard(item_id)
        return lots

    def _lots(self, item_id: int) -> list[_Lot]:
        lots = self.scratch.get(item_id)
        if lots is None:
            lots = self.scratch[item_id] = [_Lot(lot.due, lot.left) for lot in self.supply(item_id)]
        return lots

    def promise(self, item_id: int, quantity: Decimal) -> Atp:
        """Earliest date on which ``quantity`` of ``item_id`` can be delivered, what
        stock covers now, and what limits the date."""
        item = self.items[item_id]
        now = max(item.available_now, ZERO)
        if quantity <= now:
            return Atp(now, self.today)
        self.scratch = {}
        taken, due = _take(self._lots(item_id), quantity)
        if taken >= quantity and due is not None:
            return Atp(now, due, item_id)
        ready, limited_by = self.replenish(item_id, quantity - taken, frozenset())
        return Atp(now, ready, limited_by)

    def claim(self, item_id: int, promised: date, quantity: Decimal) -> None:
        """Record a promise of ``quantity`` of the item on ``promised``: it takes its
        share of the item's supply and, for what that does not cover, of the components."""
        if item_id in self.items:
            self._consume(item_id, promised, quantity, frozenset())

    def _consume(self, item_id: int, when: date, quantity: Decimal, path: frozenset[int]) -> None:
        lots = self.lots.get(item_id)
        if lots is None:  # counted with the item's own claims when it is first needed
            self.pending[item_id].append(Claim(when, quantity))
            return
        taken, _ = _take(lots, quantity)
        item = self.items[item_id]
        if taken >= quantity or item.procurement != "MAKE":
            return
        due, inner = when - timedelta(days=item.lead_time_days), path | {item_id}
        for line in item.components:
            if line.component_id in self.items and line.component_id not in inner:
                self._consume(line.component_id, due, self._requirement(item, line, quantity - taken), inner)

    def _derived(self, item_id: int) -> list[Claim]:
        """What made parts of earlier promises of parent items claim of ``item_id``."""
        claims: list[Claim] = []
        for parent_id in self.parents.get(item_id, ()):
            if parent_id in self.busy:  # a cyclic BOM
                continue
            self.supply(parent_id)
            parent = self.items[parent_id]
            for part in self.made[parent_id]:
                due = part.promised - timedelta(days=parent.lead_time_days)
                for line in parent.components:
                    if line.component_id == item_id:
                        claims.append(Claim(due, self._requirement(parent, line, part.quantity)))
        return claims

    def _requirement(self, parent: AtpInputs, line: Component, quantity: Decimal) -> Decimal:
        made = whole_units_up(quantity, parent.uom)
        need = component_requirement(made, line.quantity, line.scrap_rate, parent.output_quantity)
        component = self.items.get(line.component_id)
        return whole_units_up(need, component.uom) if component is not None else need

    def component(self, item_id: int, quantity: Decimal, path: frozenset[int]) -> tuple[date, int | None]:
        """When ``quantity`` of a component can be had, and what sets that date."""
        if item_id not in self.items or quantity <= 0:
            return self.today, None
        taken, due = _take(self._lots(item_id), quantity)
        if taken < quantity:
            return self.replenish(item_id, quantity - taken, path)
        assert due is not None
        if due <= self.today:
            return self.today, None
        if item_id not in self.cumulative:
            self.cumulative[item_id] = cumulative_lead_time(item_id, self.items)
        bound = self.today + timedelta(days=self.cumulative[item_id])
        return min(due, bound), item_id

    def replenish(self, item_id: int, quantity: Decimal, path: frozenset[int]) -> tuple[date, int | None]:
        """When ``quantity`` more of the item can be bought or made."""
        item = self.items[item_id]
        lead = timedelta(days=item.lead_time_days)
        if item.procurement != "MAKE":
            return self.today + lead, item_id
        inner = path | {item_id}
        latest, limited_by = self.today, None
        for line in item.components:
            if line.component_id in inner:
                continue
            ready, limit = self.component(line.component_id, self._requirement(item, line, quantity), inner)
            if ready > latest:
                latest, limited_by = ready, limit
        return latest + lead, item_id if limited_by is None else limited_by


def promise(item_id: int, quantity: Decimal, items: Mapping[int, AtpInputs], today: date) -> Atp:
    """Earliest date on which ``quantity`` of ``item_id`` can be delivered, what stock
    covers now, and what limits the date. ``items`` holds the item and every item its
    BOM reaches or that uses it (an item missing from it counts as in stock)."""
    return Promiser(items, today).promise(item_id, quantity)


def available_to_promise(
    quantity: Decimal,
    *,
    today: date,
    available_now: Decimal,
    replenishment_days: int,
    receipts: Iterable[Receipt] = (),
    claims: Iterable[Claim] = (),
) -> Atp:
    """``promise`` for one bought item on its own (lead time ``replenishment_days``)."""
    item = AtpInputs(available_now, replenishment_days, list(receipts), list(claims))
    return promise(0, quantity, {0: item}, today)


def with_claims(items: Mapping[int, AtpInputs], claims: Mapping[int, list[Claim]]) -> dict[int, AtpInputs]:
    """A copy of ``items`` whose listed items have ``claims`` in place of their own."""
    return {
        item_id: replace(item, claims=list(claims[item_id])) if item_id in claims else item
        for item_id, item in items.items()
    }
