"""Backorders fill from stock that becomes free.

Stock becomes free when it arrives (a purchase receipt, reported production, a
positive adjustment) or when a reservation is given back (a cancelled order). The
command that frees it appends a ``stock.freed`` event naming the items and the cause
(``domain.inventory.availability``); the outbox relay turns that event into one
``allocate_stock`` job, which calls ``allocate_backorders`` in a transaction of its
own a moment after the commit. ``allocateStock`` calls the same function on demand.

Rules:

- Waiting lines: lines of open orders (``OPEN_ORDER_STATUSES``) with an unreserved,
  unshipped quantity (``reservations.UNRESERVED``), served in priority order: the
  line's earliest promised date, then the order's first confirmation, then the
  order number, then the line position.
- Each takes what it still needs from the free stock of its item (on hand −
  reserved), default warehouse first (``inventory.allocation.take``), as RESERVE moves
  on the ledger: never more than is free, and the balances' CHECKs hold it too.
- A line now fully reserved is promised today (or keeps an earlier date); lines still
  short are re-promised from what is left (``promise.repromise_locked``).
- Each order whose reservation or promised date changed gets one
  ``order.status_changed`` event, status unchanged, whose reason says what happened:
  ``reserved 5 of BELL-01 from receipt PO-000001``.

Idempotent: what is waiting is read from the ledger under the locks, so a second run
finds the lines already reserved and changes nothing.

Lock order, the same as confirmation's, shipment's and cancellation's: the order rows
(ascending id), then each item's balances (ascending item id). Orders that another
command holds are skipped, never waited for (``lock_orders``' ``SKIP LOCKED`` for
late arrivals); that command is a confirmation, shipment or cancellation of that order,
and frees or takes stock itself, so a later ``stock.freed`` event or ``allocateStock``
serves it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory import ledger
from domain.inventory.allocation import take
from domain.inventory.availability import STOCK_FREED
from domain.inventory.models import Item
from domain.sales.models import OPEN_ORDER_STATUSES, SalesOrder, SalesOrderLine
from domain.sales.promise import CONFIRMED_AT, lock_orders, repromise_locked
from domain.sales.reservations import UNRESERVED, line_reference
from domain.sales.status import record_update
from domain.shared.errors import DomainError, ErrorCode, Problem
from domain.shared.events import DomainEvent
from domain.shared.numbers import quantity_text

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Allocation:
    """``quantity`` of stock reserved for a waiting order line."""

    line: SalesOrderLine
    order: SalesOrder
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class _Waiting:
    line_id: int
    order_id: int
    item_id: int
    quantity: Decimal


async def check_items(session: AsyncSession, item_ids: Sequence[int], field: str = "itemIds") -> None:
    """NOT_FOUND for each id that names no item; INVALID for an empty list."""
    if not item_ids:
        raise DomainError.one(ErrorCode.INVALID, "give at least one item", [field])
    found = set((await session.execute(select(Item.id).where(Item.id.in_(item_ids)))).scalars())
    missing = [Problem(ErrorCode.NOT_FOUND, "item not found", (field, str(i)))
               for i, item_id in enumerate(item_ids) if item_id not in found]
    if missing:
        raise DomainError(missing)


async def _waiting(session: AsyncSession, item_ids: Sequence[int]) -> list[_Waiting]:
    line = SalesOrderLine
    rows = await session.execute(
        select(line.id, line.order_id, line.item_id, UNRESERVED)
        .join(SalesOrder, SalesOrder.id == line.order_id)
        .where(SalesOrder.status.in_(OPEN_ORDER_STATUSES), line.item_id.in_(item_ids), UNRESERVED > 0)
        .order_by(line.promised_date.asc().nulls_last(), CONFIRMED_AT.asc().nulls_last(),
                  SalesOrder.number, line.position, line.id)
    )
    return [_Waiting(*row) for row in rows]


async def _latest_sources(
    session: AsyncSession, item_ids: Sequence[int], *, since: int, default: str
) -> dict[int, str]:
    """For each item, what freed its stock last: the newest ``stock.freed`` event from the
    job's own (id ``since``) on.

    A job may run after later frees of its item committed and take their stock too; the
    reason then names the latest one. Read under the balance locks, so every free whose
    stock the allocation sees has committed its event too. One statement over the events
    since the job's own, in id order, so the last one read for an item wins.
    """
    wanted = set(item_ids)
    found = dict.fromkeys(item_ids, default)
    rows = await session.execute(
        select(DomainEvent.payload)
        .where(DomainEvent.id >= since, DomainEvent.type == STOCK_FREED)
        .order_by(DomainEvent.id)
    )
    for payload in rows.scalars():
        for item_id in wanted.intersection(payload["itemIds"]):
            found[item_id] = payload["source"]
    return found


async def allocate_backorders(
    session: AsyncSession,
    item_ids: Iterable[int],
    *,
    today: date,
    source: str,
    since: int | None = None,
    actor: str | None = None,
) -> list[Allocation]:
    """Reserve free stock of the items for the lines waiting for it; what was reserved.

    ``source`` names what freed the stock, for the events' reasons ("receipt PO-000001").
    ``since``: the id of the ``stock.freed`` event that asked for this run; an item freed
    again since then is named by its latest free instead (its stock is taken too).
    """
    ids = sorted(set(item_ids))
    if not ids:
        return []
    orders = await lock_orders(session, ids)  # orders first, then balances
    balances = {item_id: {b.warehouse_id: b for b in await ledger.lock_balances(session, item_id)}
                for item_id in ids}
    sources: Mapping[int, str] = (
        dict.fromkeys(ids, source) if since is None
        else await _latest_sources(session, ids, since=since, default=source)
    )
    reserved: dict[int, Decimal] = defaultdict(lambda: ZERO)  # by line
    filled: dict[int, int] = {}  # line -> order, for lines now fully reserved
    for waiting in await _waiting(session, ids):
        if waiting.order_id not in orders:  # held by another command: see the module docstring
            continue
        held = balances[waiting.item_id]
        for warehouse_id, quantity in take(waiting.quantity, [b.stock for b in held.values()]):
            posted = await ledger.post(
                session, item_id=waiting.item_id, warehouse_id=warehouse_id, kind="RESERVE",
                reserved=quantity, reference=line_reference(waiting.line_id), actor=actor,
            )
            if posted is None:  # cannot happen under the balance lock; never oversell
                raise RuntimeError(f"reservation refused for item {waiting.item_id}")
            held[warehouse_id].reserved += quantity
            reserved[waiting.line_id] += quantity
        if reserved.get(waiting.line_id, ZERO) == waiting.quantity:
            filled[waiting.line_id] = waiting.order_id
    if not reserved:
        return []
    if filled:  # the stock is here: promised today, unless already earlier
        await session.execute(
            update(SalesOrderLine)
            .where(SalesOrderLine.id.in_(filled),
                   SalesOrderLine.promised_date.is_(None) | (SalesOrderLine.promised_date > today))
            .values(promised_date=today)
            .execution_options(synchronize_session=False)
        )
    moves = await repromise_locked(session, ids, orders, today=today, touched=filled.values())
    lines = {
        line.id: line for line in (await session.execute(
            select(SalesOrderLine).where(SalesOrderLine.id.in_(reserved))
            .execution_options(populate_existing=True)
        )).scalars()
    }
    skus = {item_id: sku for item_id, sku in await session.execute(select(Item.id, Item.sku).where(Item.id.in_(ids)))}

    told: dict[int, list[str]] = defaultdict(list)
    for line_id, quantity in reserved.items():
        line = lines[line_id]
        why = sources[line.item_id]
        told[line.order_id].append(f"{quantity_text(quantity)} of {skus[line.item_id]} from {why}")
    for order_id in sorted(told.keys() | moves.keys()):
        order = orders[order_id]
        parts = [f"reserved {', '.join(told[order_id])}"] if order_id in told else []
        details: dict[str, object] = {}
        if order_id in moves:
            previous, promised = moves[order_id]
            parts.append(f"promised date moved from {previous or 'none'} to {promised or 'none'}")
            details = {"promisedDate": _iso(promised), "previousPromisedDate": _iso(previous)}
        await record_update(session, order, "; ".join(parts), details=details, actor=actor)
    return [Allocation(lines[line_id], orders[lines[line_id].order_id], quantity)
            for line_id, quantity in reserved.items()]


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
