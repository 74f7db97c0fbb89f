"""The ERP writeback: which records go to the ERP, when, and one attempt at writing one.

State
-----
Everything that matters lives in PostgreSQL, in the ``external_refs`` rows marked
``writeback`` (one per ERP and record: a customer, an item, a confirmed sales order).
Redis only carries the jobs that act on them, and loses nothing that counts:

* The outbox relay turns committed events into PENDING rows (:func:`schedule`) before it
  queues their jobs, so a change is never lost even if the API dies right after its commit.
* Every (re)scheduling of a row takes the next ``sync_seq``; a job carries the number it
  was queued for and does nothing when the row has moved on (a duplicate delivery, a job
  from before a retry or a sweep). ``next_attempt_at`` is when the row is due.
* An attempt holds a transaction-scoped advisory lock on the record (``_lock``): two jobs
  for one record, or an order's job writing the customer a customer job is writing, take
  turns, so the ERP's lookup-before-create never races itself. The lock transaction
  writes nothing (no xid: it holds back neither the relay's horizon nor vacuum) and dies
  with its connection when a worker is killed.
* The sweeper (:func:`sweep`) re-queues rows overdue by a grace period whose record no
  attempt holds (the lock tells): what Redis lost (a flush, a failover), or what a killed
  worker left behind, whose job arq would not run again before its timeout.

Attempts
--------
An attempt counts when it starts (a worker killed mid-write has used one). A transient
:class:`ErpError` (the ERP down, a timeout) schedules the next attempt after a capped
exponential backoff with jitter; after ``max_attempts`` attempts, or at once for a
permanent error (the ERP rejected the record), the row is FAILED with ``last_error``
until an update of the record or ``retrySync`` (:func:`retry`) schedules it again.

An order is written after its customer and items: its attempt writes them first, under
their own locks (customer, then items by id: one global order, no deadlock), unless they
are SYNCED already.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from domain.crm.models import Customer
from domain.integration.erp.connector import (
    ErpConnector,
    ErpError,
    PartyData,
    ProductData,
    SaleData,
    SaleLineData,
)
from domain.inventory.models import Item
from domain.jobs import services as jobs
from domain.jobs.models import Job
from domain.sales.models import OrderStatus, SalesOrder, SalesOrderLine
from domain.sales.status import STATUS_CHANGED
from domain.shared.backoff import backoff_s, jittered
from domain.shared.db import SessionMaker
from domain.shared.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)

CUSTOMER = "Customer"
ITEM = "Item"
ORDER = "SalesOrder"
WRITTEN = (CUSTOMER, ITEM, ORDER)
# the job kind of a retrySync (``jobs.kind``)
JOB_KIND = "ERP_SYNC"

# the fields of an update event that change what the ERP holds (event payload "fields")
_WRITTEN_FIELDS = {CUSTOMER: frozenset({"name", "email", "phone"}), ITEM: frozenset({"name", "uom", "listPrice"})}
# orders in these states are not (or no longer) meant for the ERP
_NOT_WRITTEN_ORDERS = frozenset({OrderStatus.DRAFT, OrderStatus.CREDIT_HOLD, OrderStatus.CANCELLED})
# Tryton keeps unit prices to 4 places by default
PRICE_PLACES = Decimal("0.0001")
MAX_ERROR = 2000


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 8
    backoff_s: float = 2.0
    backoff_max_s: float = 600.0

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts`` failures: doubling up to the cap,
        the upper half jittered so that records failed together do not come back together."""
        return jittered(backoff_s(attempts, self.backoff_s, self.backoff_max_s))


@dataclass(frozen=True)
class Due:
    """A row to hand to a job: the job's arguments and when it should run."""

    ref_id: int
    seq: int
    created_at: datetime
    delay_s: float = 0.0

    @property
    def job_id(self) -> str:
        # the row's creation time too: unique across re-created databases sharing a Redis
        return f"erp:{self.ref_id}:{self.seq}:{int(self.created_at.timestamp() * 1_000_000)}"


@dataclass(frozen=True)
class Outcome:
    """What one job did: ``status`` is the row's afterwards (SKIPPED: the job was stale)."""

    status: str
    external_id: str | None = None
    error: str | None = None
    follow_ups: tuple[Due, ...] = ()


SKIPPED = Outcome("SKIPPED")


@dataclass(frozen=True)
class _Ref:
    id: int
    entity_type: str
    entity_id: int
    system: str
    seq: int
    attempts: int
    status: str
    external_id: str | None


def wanted(event: Any) -> tuple[str, int] | None:
    """The record a ``domain_events`` row asks the writeback to (re)write, or None."""
    if event.type in ("customer.created", "item.created"):
        return event.entity_type, event.entity_id
    if event.type in ("customer.updated", "item.updated"):
        fields = set((event.payload or {}).get("fields") or ())
        return (event.entity_type, event.entity_id) if fields & _WRITTEN_FIELDS[event.entity_type] else None
    if event.type == STATUS_CHANGED and (event.payload or {}).get("status") == OrderStatus.CONFIRMED:
        return event.entity_type, event.entity_id
    return None


_SCHEDULE = text(
    """
    INSERT INTO external_refs
        (entity_type, entity_id, system, writeback, status, attempts, sync_seq, next_attempt_at, last_event_id)
    SELECT t.entity_type, t.entity_id, :system, true, 'PENDING', 0, 1, now(), t.event_id
    FROM unnest(CAST(:types AS text[]), CAST(:ids AS bigint[]), CAST(:events AS bigint[]))
        AS t(entity_type, entity_id, event_id)
    ON CONFLICT (system, entity_type, entity_id) WHERE writeback DO UPDATE
    SET status = 'PENDING', attempts = 0, last_error = NULL, sync_seq = external_refs.sync_seq + 1,
        next_attempt_at = now(), last_event_id = EXCLUDED.last_event_id
    -- a sale is written once; an older event (a relay replay) asks for nothing new
    WHERE external_refs.entity_type <> 'SalesOrder'
      AND coalesce(external_refs.last_event_id, 0) < EXCLUDED.last_event_id
    RETURNING id, sync_seq, created_at
    """
)


async def schedule(conn: AsyncConnection, system: str, events: Iterable[Any]) -> list[Due]:
    """Make the rows the events ask for PENDING (in the caller's transaction); the jobs to queue."""
    latest: dict[tuple[str, int], int] = {}
    for event in events:
        key = wanted(event)
        if key is not None:
            latest[key] = max(latest.get(key, 0), event.id)
    if not latest:
        return []
    keys = sorted(latest)
    rows = await conn.execute(_SCHEDULE, {
        "system": system, "types": [k[0] for k in keys], "ids": [k[1] for k in keys],
        "events": [latest[k] for k in keys],
    })
    return [Due(row.id, row.sync_seq, row.created_at) for row in rows]


_SWEEP = text(
    """
    WITH overdue AS (
        SELECT id FROM external_refs
        WHERE writeback AND system = :system AND status = 'PENDING'
          AND next_attempt_at < now() - make_interval(secs => :grace)
        ORDER BY next_attempt_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE external_refs r
    SET sync_seq = r.sync_seq + 1, next_attempt_at = now()
    FROM overdue
    WHERE r.id = overdue.id
      -- a record an attempt holds is being written right now: not lost
      AND pg_try_advisory_xact_lock(hashtextextended(
            'erp:' || r.system || ':' || r.entity_type || ':' || r.entity_id, 0))
    RETURNING r.id, r.sync_seq, r.created_at
    """
)


async def sweep(session: AsyncSession, system: str, grace_s: float, limit: int = 1000) -> list[Due]:
    """Re-schedule PENDING rows overdue by more than ``grace_s`` (their job was lost); the jobs to queue."""
    rows = await session.execute(_SWEEP, {"system": system, "grace": grace_s, "limit": limit})
    return [Due(row.id, row.sync_seq, row.created_at) for row in rows]


_RETRY = text(
    """
    INSERT INTO external_refs
        (entity_type, entity_id, system, writeback, status, attempts, sync_seq, next_attempt_at)
    VALUES (:entity_type, :entity_id, :system, true, 'PENDING', 0, 1, now())
    ON CONFLICT (system, entity_type, entity_id) WHERE writeback DO UPDATE
    SET status = 'PENDING', attempts = 0, sync_seq = external_refs.sync_seq + 1, next_attempt_at = now()
    RETURNING id, sync_seq, created_at
    """
)


async def retry(
    session: AsyncSession, system: str, entity_type: str, entity_id: int, *, actor: str | None, queue_name: str
) -> Job:
    """Schedule the record's writeback again, whatever its state, as a job that runs one
    attempt now (``retrySync``; its outcome is the job's).

    ``last_error`` stays until an attempt succeeds or fails anew. An order must be
    confirmed (or further): a draft, held or cancelled one is not for the ERP.
    """
    if entity_type == ORDER:
        status = await session.scalar(select(SalesOrder.status).where(SalesOrder.id == entity_id))
        if status in _NOT_WRITTEN_ORDERS:
            raise DomainError.one(
                ErrorCode.INVALID_STATE, f"a {status} order is not written to the ERP; only confirmed ones are",
                ("id",),
            )
    row = (await session.execute(
        _RETRY, {"entity_type": entity_type, "entity_id": entity_id, "system": system}
    )).one()
    label = await _label(session, entity_type, entity_id)
    job = await jobs.create(session, JOB_KIND, {"refId": row.id, "seq": row.sync_seq, "label": label}, actor)
    await jobs.queue(session, job, queue_name=queue_name, actor=actor)
    return job


# ------------------------------------------------------------------ one attempt


def _lock_key(system: str, entity_type: str, entity_id: int) -> str:
    # the same text as the sweeper's SQL builds
    return f"erp:{system}:{entity_type}:{entity_id}"


async def _lock(locks: AsyncConnection, system: str, entity_type: str, entity_id: int) -> None:
    await locks.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": _lock_key(system, entity_type, entity_id)},
    )


_REF_COLUMNS = "id, entity_type, entity_id, system, sync_seq AS seq, attempts, status, external_id"


async def _claim(sm: SessionMaker, ref_id: int, seq: int) -> _Ref | None:
    """Start an attempt on the row (under its lock) if the job is still current; None when not."""
    async with sm.begin() as session:
        row = (await session.execute(text(
            f"""
            UPDATE external_refs SET attempts = attempts + 1
            WHERE id = :id AND sync_seq = :seq AND status = 'PENDING' AND writeback
            RETURNING {_REF_COLUMNS}
            """
        ), {"id": ref_id, "seq": seq})).one_or_none()
    return None if row is None else _Ref(**row._mapping)


async def _read_ref(sm: SessionMaker, ref_id: int) -> _Ref | None:
    async with sm() as session:
        row = (await session.execute(
            text(f"SELECT {_REF_COLUMNS} FROM external_refs WHERE id = :id AND writeback"), {"id": ref_id}
        )).one_or_none()
    return None if row is None else _Ref(**row._mapping)


async def _dependency_ref(sm: SessionMaker, system: str, entity_type: str, entity_id: int) -> _Ref:
    """The record's writeback row (under the caller's lock on the record), an attempt started on it
    unless it is SYNCED; made PENDING first if it has none (written before the switch-on).

    A SYNCED one, the common case for the customer and items of an order, costs one read.
    """
    key = {"entity_type": entity_type, "entity_id": entity_id, "system": system}
    where = "system = :system AND entity_type = :entity_type AND entity_id = :entity_id AND writeback"
    async with sm.begin() as session:
        row = (await session.execute(text(f"SELECT {_REF_COLUMNS} FROM external_refs WHERE {where}"), key)
               ).one_or_none()
        if row is not None and row.status == "SYNCED":
            return _Ref(**row._mapping)
        if row is None:
            await session.execute(text(
                """
                INSERT INTO external_refs (entity_type, entity_id, system, writeback, status, sync_seq, next_attempt_at)
                VALUES (:entity_type, :entity_id, :system, true, 'PENDING', 1, now())
                ON CONFLICT (system, entity_type, entity_id) WHERE writeback DO NOTHING
                """
            ), key)
        row = (await session.execute(text(
            f"UPDATE external_refs SET attempts = attempts + 1 WHERE {where} RETURNING {_REF_COLUMNS}"
        ), key)).one()
    return _Ref(**row._mapping)


async def _synced(sm: SessionMaker, ref: _Ref, external_id: str) -> str:
    """Store the ERP's id; the row is SYNCED unless it was scheduled again meanwhile."""
    async with sm.begin() as session:
        status: str = (await session.execute(text(
            """
            UPDATE external_refs SET external_id = :external_id,
                status = CASE WHEN sync_seq = :seq THEN 'SYNCED' ELSE status END,
                synced_at = CASE WHEN sync_seq = :seq THEN now() ELSE synced_at END,
                last_error = CASE WHEN sync_seq = :seq THEN NULL ELSE last_error END,
                next_attempt_at = CASE WHEN sync_seq = :seq THEN NULL ELSE next_attempt_at END
            WHERE id = :id
            RETURNING status
            """
        ), {"id": ref.id, "seq": ref.seq, "external_id": external_id})).scalar_one()
    return status


async def _failed(sm: SessionMaker, ref: _Ref, error: ErpError, policy: Policy) -> Outcome:
    message = str(error)[:MAX_ERROR]
    async with sm.begin() as session:
        if error.permanent or ref.attempts >= policy.max_attempts:
            await session.execute(text(
                """
                UPDATE external_refs SET status = 'FAILED', last_error = :error, next_attempt_at = NULL
                WHERE id = :id AND sync_seq = :seq
                """
            ), {"id": ref.id, "seq": ref.seq, "error": message})
            return Outcome("FAILED", error=message)
        delay = policy.backoff(ref.attempts)
        row = (await session.execute(text(
            """
            UPDATE external_refs SET sync_seq = sync_seq + 1, last_error = :error,
                next_attempt_at = now() + make_interval(secs => :delay)
            WHERE id = :id AND sync_seq = :seq
            RETURNING id, sync_seq, created_at
            """
        ), {"id": ref.id, "seq": ref.seq, "error": message, "delay": delay})).one_or_none()
    follow_ups = () if row is None else (Due(row.id, row.sync_seq, row.created_at, delay),)
    return Outcome("PENDING", error=message, follow_ups=follow_ups)


async def sync(
    engine: AsyncEngine, sm: SessionMaker, connector: ErpConnector, ref_id: int, seq: int, policy: Policy
) -> Outcome:
    """One attempt at the row ``ref_id`` as queued with ``seq``: write the record, store the outcome.

    Never raises for the ERP's failures: they are the outcome (and its follow-up jobs).
    """
    first = await _read_ref(sm, ref_id)
    if first is None or first.seq != seq or first.status != "PENDING":
        return SKIPPED
    follow_ups: list[Due] = []
    async with engine.connect() as locks:
        await _lock(locks, first.system, first.entity_type, first.entity_id)
        ref = await _claim(sm, ref_id, seq)
        if ref is None:
            await locks.rollback()
            return SKIPPED
        try:
            external_id = await _write(locks, sm, connector, ref, policy, follow_ups)
        except ErpError as error:
            outcome = await _failed(sm, ref, error, policy)
            await locks.rollback()
            return Outcome(outcome.status, error=outcome.error, follow_ups=(*follow_ups, *outcome.follow_ups))
        except Exception as error:  # our bug or our database: logged, and retried as transient
            logger.exception("writeback of %s %s failed", ref.entity_type, ref.entity_id)
            transient = ErpError(f"internal error: {type(error).__name__}: {error}", permanent=False)
            outcome = await _failed(sm, ref, transient, policy)
            await locks.rollback()
            return Outcome(outcome.status, error=outcome.error, follow_ups=(*follow_ups, *outcome.follow_ups))
        status = await _synced(sm, ref, external_id)
        await locks.rollback()
    return Outcome(status, external_id=external_id, follow_ups=tuple(follow_ups))


async def _write(
    locks: AsyncConnection, sm: SessionMaker, connector: ErpConnector, ref: _Ref, policy: Policy,
    follow_ups: list[Due],
) -> str:
    if ref.entity_type == CUSTOMER:
        return await connector.upsert_party(await _party(sm, ref.entity_id))
    if ref.entity_type == ITEM:
        return await connector.upsert_product(await _product(sm, ref.entity_id))
    if ref.entity_type == ORDER:
        return await _write_order(locks, sm, connector, ref, policy, follow_ups)
    raise ErpError(f"{ref.entity_type} records are not written to an ERP", permanent=True)


async def _write_order(
    locks: AsyncConnection, sm: SessionMaker, connector: ErpConnector, ref: _Ref, policy: Policy,
    follow_ups: list[Due],
) -> str:
    async with sm() as session:
        order = await session.get(SalesOrder, ref.entity_id)
        if order is None:
            raise ErpError("the order no longer exists", permanent=True)
        if order.status in _NOT_WRITTEN_ORDERS:
            raise ErpError(f"the order is {order.status}: only confirmed orders are written", permanent=True)
        lines = (await session.execute(
            select(SalesOrderLine, Item.sku, Item.name, Item.uom)
            .join(Item, Item.id == SalesOrderLine.item_id)
            .where(SalesOrderLine.order_id == order.id)
            .order_by(SalesOrderLine.position)
        )).all()
    party_id = await _dependency(locks, sm, connector, ref.system, CUSTOMER, order.customer_id, policy, follow_ups)
    products: dict[int, str] = {}
    for item_id in sorted({line.SalesOrderLine.item_id for line in lines}):
        products[item_id] = await _dependency(locks, sm, connector, ref.system, ITEM, item_id, policy, follow_ups)
    sale_lines = []
    for line, sku, name, uom in lines:
        quantity = line.quantity - line.cancelled_quantity
        if quantity <= 0:
            continue
        net = (line.unit_price * (1 - line.discount_percent / 100)).quantize(PRICE_PLACES)
        sale_lines.append(SaleLineData(
            product_id=products[line.item_id], product_code=sku, description=name,
            quantity=quantity, unit=uom, unit_price=net,
        ))
    return await connector.ensure_sale(SaleData(
        reference=order.number, party_id=party_id, currency=order.currency,
        sale_date=order.created_at.date(), lines=tuple(sale_lines),
    ))


async def _dependency(
    locks: AsyncConnection, sm: SessionMaker, connector: ErpConnector, system: str, entity_type: str,
    entity_id: int, policy: Policy, follow_ups: list[Due],
) -> str:
    """The ERP id of an order's customer or item, writing it first unless it is SYNCED."""
    await _lock(locks, system, entity_type, entity_id)
    ref = await _dependency_ref(sm, system, entity_type, entity_id)
    if ref.status == "SYNCED" and ref.external_id is not None:
        return ref.external_id
    try:
        external_id = await _write(locks, sm, connector, ref, policy, follow_ups)
    except ErpError as error:
        outcome = await _failed(sm, ref, error, policy)
        follow_ups.extend(outcome.follow_ups)
        async with sm() as session:  # named only when it failed
            label = await _label(session, entity_type, entity_id)
        raise ErpError(f"{label} not written: {error}", permanent=error.permanent) from error
    await _synced(sm, ref, external_id)
    return external_id


async def _label(session: AsyncSession, entity_type: str, entity_id: int) -> str:
    """How people name the record: customer C-1, item SKU, order SO-1."""
    if entity_type == CUSTOMER:
        return f"customer {await session.scalar(select(Customer.code).where(Customer.id == entity_id))}"
    if entity_type == ITEM:
        return f"item {await session.scalar(select(Item.sku).where(Item.id == entity_id))}"
    return f"order {await session.scalar(select(SalesOrder.number).where(SalesOrder.id == entity_id))}"


async def _party(sm: SessionMaker, customer_id: int) -> PartyData:
    async with sm() as session:
        customer = await session.get(Customer, customer_id)
    if customer is None:
        raise ErpError("the customer no longer exists", permanent=True)
    return PartyData(code=customer.code, name=customer.name, email=customer.email, phone=customer.phone)


async def _product(sm: SessionMaker, item_id: int) -> ProductData:
    async with sm() as session:
        item = await session.get(Item, item_id)
    if item is None:
        raise ErpError("the item no longer exists", permanent=True)
    return ProductData(code=item.sku, name=item.name, uom=item.uom, list_price=item.list_price)
