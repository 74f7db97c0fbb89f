"""Re-promising backorders when their supply moves.

Confirmation promises each backordered line a date from available-to-promise. When
a scheduled receipt moves (a work order is created, rescheduled, cancelled, or
reports production), ``repromise`` recomputes those promises for the items involved,
the way confirmation made them:

- Lines: of open orders (``OPEN_ORDER_STATUSES``), with a promised date and a
  backorder (quantity − shipped − reserved > 0), of the items and of the made items
  whose BOMs reach them (capable to promise: a made item's backorder is promised from
  its components). Lines never promised are left out here as they are out of ATP's
  claims.
- Claim order: earlier confirmed orders first (by their first CONFIRMED event), then
  line position, as confirmation let them claim receipts; each line's backorder is
  a claim on the supply left for the lines after it.
- Supply: free stock now (on hand − reserved, all warehouses) counts as a receipt
  due today, so an earlier backorder claims stock that arrived unreserved before a
  later one can; then open receipts by due date; then lead time (``atp.promise``).
- Writes: only lines whose date changed; an order's promised date is the latest of
  its lines'; each order whose promised date changed gets one ``order.status_changed``
  event with its status unchanged and a reason naming the old and new date and the
  cause.

Locks follow confirmation's order: order rows (ascending id), then each item's
balances (ascending item id); the balances of the made items above them are read,
not locked, and their orders are locked like late ones (below). ``lock_orders`` takes the first step on its own for
callers that lock balances themselves before re-promising (reporting production).
An order that confirms between that step and the balance locks is locked without
waiting (``SKIP LOCKED``); if another command holds it, its lines keep their dates
and only count as claims, which avoids a deadlock with that command.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory import ledger
from domain.inventory.atp import AtpInputs, Claim, Promiser, Receipt, with_claims
from domain.sales.atp_inputs import load_atp_inputs
from domain.sales.locks import locking
from domain.sales.models import OPEN_ORDER_STATUSES, OrderStatus, SalesOrder, SalesOrderLine
from domain.sales.reservations import UNRESERVED
from domain.sales.status import STATUS_CHANGED, record_update
from domain.shared.events import DomainEvent

ZERO = Decimal(0)


@dataclass(frozen=True)
class Backorder:
    """An open backordered line, as ATP sees it."""

    line_id: int
    order_id: int
    item_id: int
    quantity: Decimal
    promised: date


@dataclass(frozen=True)
class PromiseMove:
    """An order whose promised date changed."""

    order_id: int
    previous: date | None
    promised: date | None


def repromised(
    backorders: Sequence[Backorder],
    inputs: Mapping[int, AtpInputs],
    today: date,
    movable: Collection[int],
) -> dict[int, date]:
    """The promised date of each line of a ``movable`` order (by line id).

    ``backorders`` come in claim order; ``inputs`` (``load_atp_inputs``) give stock,
    receipts, BOMs and claims per item; the claims of the backorders' items are
    ignored: the lines themselves are the claims. A line of an order not in
    ``movable`` keeps its date and still claims its quantity.
    """
    claims: dict[int, list[Claim]] = {b.item_id: [] for b in backorders}
    # free stock counts as a receipt due today, so earlier lines claim it first
    items = {
        item_id: replace(
            item, available_now=ZERO, receipts=[Receipt(today, max(item.available_now, ZERO)), *item.receipts]
        ) if item_id in claims else item
        for item_id, item in with_claims(inputs, claims).items()
    }
    promiser = Promiser(items, today)
    result: dict[int, date] = {}
    for backorder in backorders:
        if backorder.item_id not in items:
            continue
        promised = backorder.promised
        if backorder.order_id in movable:
            promised = promiser.promise(backorder.item_id, backorder.quantity).date
            result[backorder.line_id] = promised
        promiser.claim(backorder.item_id, promised, backorder.quantity)
    return result


def made_from(item_ids: Iterable[int], items: Mapping[int, AtpInputs]) -> set[int]:
    """The made items in ``items`` whose BOMs reach any of ``item_ids``, at any depth."""
    parents: dict[int, list[int]] = {}
    for item_id, item in items.items():
        if item.procurement == "MAKE":
            for line in item.components:
                parents.setdefault(line.component_id, []).append(item_id)
    found: set[int] = set()
    todo = list(item_ids)
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


_LINE = SalesOrderLine
# the first time the order was confirmed: its place in the queue for receipts
CONFIRMED_AT = (
    select(func.min(DomainEvent.id))
    .where(
        DomainEvent.entity_type == "SalesOrder",
        DomainEvent.entity_id == SalesOrder.id,
        DomainEvent.type == STATUS_CHANGED,
        DomainEvent.payload.contains({"status": OrderStatus.CONFIRMED}),
    )
    .correlate(SalesOrder)
    .scalar_subquery()
)
_PROMISE_LINE = (
    update(cast(Table, SalesOrderLine.__table__))
    .where(SalesOrderLine.__table__.c.id == bindparam("p_id"))
    .values(promised_date=bindparam("p_date"))
)


def _open_backorder(item_ids: Sequence[int]) -> ColumnElement[bool]:
    return and_(_LINE.item_id.in_(item_ids), _LINE.promised_date.is_not(None), UNRESERVED > 0)


async def lock_orders(
    session: AsyncSession, item_ids: Iterable[int], *, also: Iterable[int] = ()
) -> dict[int, SalesOrder]:
    """Lock, in ascending id, every order with an open backorder of the items and the
    orders ``also`` (any status). Take these before any stock balance lock."""
    ids, others = sorted(set(item_ids)), sorted(set(also))
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(and_(
            SalesOrder.status.in_(OPEN_ORDER_STATUSES),
            SalesOrder.id.in_(select(_LINE.order_id).where(_open_backorder(ids))),
        ))
    if others:
        conditions.append(SalesOrder.id.in_(others))
    if not conditions:
        return {}
    rows = await session.execute(locking(or_(*conditions)))
    return {order.id: order for order in rows.scalars()}


async def _backorders(session: AsyncSession, item_ids: Sequence[int]) -> list[Backorder]:
    """The open backordered lines of the items, in claim order."""
    rows = await session.execute(
        select(_LINE.id, _LINE.order_id, _LINE.item_id, UNRESERVED, _LINE.promised_date)
        .join(SalesOrder, SalesOrder.id == _LINE.order_id)
        .where(SalesOrder.status.in_(OPEN_ORDER_STATUSES), _open_backorder(item_ids))
        .order_by(CONFIRMED_AT.asc().nulls_last(), _LINE.order_id, _LINE.position, _LINE.id)
    )
    return [
        Backorder(line_id, order_id, item_id, quantity, promised)
        for line_id, order_id, item_id, quantity, promised in rows
        if promised is not None  # filtered above; narrows the type
    ]


async def repromise(
    session: AsyncSession,
    item_ids: Iterable[int],
    *,
    today: date,
    cause: str,
    actor: str | None = None,
    locked: Mapping[int, SalesOrder] | None = None,
) -> list[PromiseMove]:
    """Recompute the promises of the open backorders of the items; the orders that moved.

    ``cause`` ends each event's reason ("work order WO-000012 rescheduled").
    ``locked`` are orders the caller locked with ``lock_orders`` (before its balance
    locks); without it they are locked here.
    """
    ids = sorted(set(item_ids))
    if not ids:
        return []
    orders: dict[int, SalesOrder] = dict(locked) if locked is not None else await lock_orders(session, ids)
    for item_id in ids:
        await ledger.lock_balances(session, item_id)
    moved = await repromise_locked(session, ids, orders, today=today)
    moves: list[PromiseMove] = []
    for order_id, (previous, promised) in sorted(moved.items()):
        moves.append(PromiseMove(order_id, previous, promised))
        await record_update(
            session, orders[order_id],
            f"promised date moved from {previous or 'none'} to {promised or 'none'}: {cause}",
            details={"promisedDate": _iso(promised), "previousPromisedDate": _iso(previous)},
            actor=actor,
        )
    return moves


async def repromise_locked(
    session: AsyncSession,
    item_ids: Sequence[int],
    orders: dict[int, SalesOrder],
    *,
    today: date,
    touched: Iterable[int] = (),
) -> dict[int, tuple[date | None, date | None]]:
    """``repromise`` without its locks and events: (previous, new) promised date by order.

    The caller holds ``orders`` (``lock_orders``) and the items' balances; orders of
    other backorders are added to ``orders`` when they can be locked without waiting.
    ``touched`` are orders whose lines' dates the caller changed itself: their promised
    date is recomputed too. Nothing is recorded: the caller tells each order once.
    """
    await session.flush()
    items = await load_atp_inputs(session, item_ids)
    # made items are promised from their components: their backorders move too
    backorders = await _backorders(session, sorted(set(item_ids) | made_from(item_ids, items)))
    late = sorted({b.order_id for b in backorders} - orders.keys())
    if late:
        found = await session.execute(locking(SalesOrder.id.in_(late), skip_locked=True))
        orders.update((order.id, order) for order in found.scalars())
    dates = repromised(backorders, items, today, orders.keys())
    changed = {b.line_id: b.order_id for b in backorders if dates.get(b.line_id, b.promised) != b.promised}
    if changed:  # one executemany, not an ORM flush per line
        await session.execute(_PROMISE_LINE, [{"p_id": i, "p_date": dates[i]} for i in changed])
    recompute = sorted(set(changed.values()) | (set(touched) & orders.keys()))
    if not recompute:
        return {}
    latest = {
        order_id: promised
        for order_id, promised in await session.execute(
            select(_LINE.order_id, func.max(_LINE.promised_date))
            .where(_LINE.order_id.in_(recompute))
            .group_by(_LINE.order_id)
        )
    }
    moves: dict[int, tuple[date | None, date | None]] = {}
    for order_id in recompute:
        order = orders[order_id]
        previous, promised = order.promised_date, latest.get(order_id)
        if promised != previous:
            order.promised_date = promised
            moves[order_id] = (previous, promised)
    return moves


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
