"""Sales order use cases: create, edit a DRAFT, confirm (credit, reservation, promise), release, cancel.

Every command that changes an existing order locks its row first (``locks.lock_order``),
then, when it touches stock, the item balances in ascending item id so that two
multi-line orders can never wait on each other in a cycle.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Customer
from domain.finance.credit import hold_reason
from domain.finance.exposure import credit_position
from domain.inventory import ledger
from domain.inventory.allocation import take
from domain.inventory.atp import Promiser
from domain.inventory.availability import stock_freed
from domain.inventory.items import orderable_items
from domain.sales.atp_inputs import load_atp_inputs
from domain.sales.locks import lock_order
from domain.sales.models import OPEN_ORDER_STATUSES, OrderStatus, Quote, QuoteLine, SalesOrder, SalesOrderLine
from domain.sales.pricing import PricedLine, check_line, price_line, totals
from domain.sales.reservations import held_by_warehouse, line_reference, unreserved
from domain.sales.status import change_status, record_initial
from domain.shared.edits import check_changes
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.limits import check_line_count
from domain.shared.names import camel
from domain.shared.numbering import next_number
from domain.shared.numbers import check_text
from domain.shared.versions import check_version, touch

CURRENCY = re.compile(r"^[A-Z]{3}$")
ZERO = Decimal(0)
# something has shipped: too late to cancel
SHIPPED_STATUSES = (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.CLOSED)


@dataclass
class NewLine:
    item_id: int
    quantity: Decimal
    unit_price: Decimal | None = None
    discount_percent: Decimal | None = None
    tax_rate: Decimal | None = None


@dataclass
class NewOrder:
    customer_id: int
    lines: list[NewLine]
    requested_date: date | None = None
    currency: str | None = None
    notes: str | None = None


UPDATABLE = ("lines", "requested_date", "notes")
NOTES_MAX = 10_000


@dataclass(frozen=True)
class PricedItemLine:
    item_id: int
    price: PricedLine

    def columns(self, position: int) -> dict[str, object]:
        """The stored columns of a quote or order line (they share them)."""
        return {
            "position": position,
            "item_id": self.item_id,
            "quantity": self.price.quantity,
            "unit_price": self.price.unit_price,
            "discount_percent": self.price.discount_percent,
            "tax_rate": self.price.tax_rate,
            "line_total": self.price.line_total,
            "tax_amount": self.price.tax_amount,
        }


def check_lines(problems: Problems, lines: Sequence[NewLine]) -> None:
    if not lines:
        problems.invalid("at least one line is required", "lines")
    check_line_count(problems, lines)
    for i, line in enumerate(lines):
        check_line(problems, line.quantity, line.unit_price, line.discount_percent, line.tax_rate,
                   "lines", str(i))


def check_edit(changes: Mapping[str, Any], updatable: Sequence[str]) -> list[NewLine] | None:
    """The checks of a draft's edit (quote or order): its new lines (None: kept) and notes."""
    problems = Problems()
    check_changes(problems, changes, updatable, nullable=updatable)  # null lines: below
    new_lines: list[NewLine] | None = changes.get("lines")
    if "lines" in changes:
        if new_lines is None:
            problems.invalid("must not be null (give the lines, or leave lines out)", "lines")
        else:
            check_lines(problems, new_lines)
    check_text(problems, changes.get("notes"), "notes", max_length=NOTES_MAX)
    problems.raise_if_any()
    return new_lines


async def price_lines(session: AsyncSession, lines: Sequence[NewLine]) -> list[PricedItemLine]:
    """Priced lines (list price by default); NOT_FOUND / INVALID_STATE for each unknown or inactive item."""
    items = await orderable_items(session, [line.item_id for line in lines])
    prices = {item_id: item.list_price for item_id, item in items.items()}
    return [
        PricedItemLine(line.item_id, price_line(
            line.quantity,
            prices[line.item_id] if line.unit_price is None else line.unit_price,
            line.discount_percent or ZERO,
            line.tax_rate or ZERO,
        ))
        for line in lines
    ]


async def replace_lines(session: AsyncSession, document: Quote | SalesOrder, lines: Sequence[NewLine]) -> None:
    """Replace every line of a draft quote or order with ``lines``, priced as a new
    document's are; its totals follow and its version rises even when they do not change."""
    priced = await price_lines(session, lines)
    if isinstance(document, Quote):
        await session.execute(delete(QuoteLine).where(QuoteLine.quote_id == document.id))
        session.add_all(QuoteLine(quote_id=document.id, **line.columns(i)) for i, line in enumerate(priced))
    else:
        await session.execute(delete(SalesOrderLine).where(SalesOrderLine.order_id == document.id))
        session.add_all(SalesOrderLine(order_id=document.id, **line.columns(i)) for i, line in enumerate(priced))
    sums = totals(line.price for line in priced)
    document.subtotal, document.tax_total, document.total = sums.subtotal, sums.tax_total, sums.total
    touch(document)


async def require_customer(session: AsyncSession, customer_id: int) -> None:
    if (await session.execute(select(Customer.id).where(Customer.id == customer_id))).first() is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "customer not found", ["customerId"])


async def create_order(session: AsyncSession, data: NewOrder, actor: str | None = None) -> SalesOrder:
    problems = Problems()
    currency = "EUR" if data.currency is None else data.currency
    if not CURRENCY.match(currency):
        problems.invalid("currency must be 3 upper-case letters (ISO 4217)", "currency")
    check_lines(problems, data.lines)
    check_text(problems, data.notes, "notes", max_length=NOTES_MAX)
    problems.raise_if_any()
    await require_customer(session, data.customer_id)
    lines = await price_lines(session, data.lines)
    return await insert_order(
        session, data.customer_id, lines, currency=currency, requested_date=data.requested_date,
        notes=data.notes, actor=actor,
    )


async def update_order(
    session: AsyncSession, order_id: int, changes: Mapping[str, Any], *,
    expected_version: int | None = None, actor: str | None = None,
) -> SalesOrder:
    """Apply ``changes`` to a DRAFT order (only the keys given; None clears ``requested_date``
    or ``notes``). ``lines`` replaces every line, re-priced by :func:`price_lines` as at
    creation (list price unless a unit price is given).

    Under the order's row lock, like confirmation: an edit and a confirmation of one
    order run one after the other, so a confirmation decides on the edited lines, or the
    edit finds the order no longer DRAFT.
    """
    new_lines = check_edit(changes, UPDATABLE)
    order = await lock_order(session, order_id)
    check_version(order, expected_version, "sales order")
    if order.status == OrderStatus.CREDIT_HOLD:
        raise DomainError.one(
            ErrorCode.INVALID_STATE,
            f"order {order.number} is on credit hold: only a DRAFT order is edited; finance "
            "releases the hold (releaseCreditHold) or the order is cancelled (cancelSalesOrder)",
            ["id"],
        )
    if order.status != OrderStatus.DRAFT:
        raise DomainError.one(
            ErrorCode.INVALID_STATE,
            f"cannot update order {order.number} in status {order.status}: only a DRAFT order is edited",
            ["id"],
        )
    if new_lines is not None:
        await replace_lines(session, order, new_lines)
    if "requested_date" in changes:
        order.requested_date = changes["requested_date"]
    if "notes" in changes:
        order.notes = changes["notes"]
    await session.flush()
    await record_event(
        session, "order.updated", "SalesOrder", order.id,
        {"number": order.number, "fields": sorted(camel(k) for k in changes),
         "total": str(order.total), "customerId": order.customer_id}, actor,
    )
    await session.refresh(order)
    return order


async def insert_order(
    session: AsyncSession,
    customer_id: int,
    lines: Sequence[PricedItemLine],
    *,
    currency: str = "EUR",
    requested_date: date | None = None,
    quote_id: int | None = None,
    notes: str | None = None,
    actor: str | None = None,
) -> SalesOrder:
    """A DRAFT order with these priced lines and its initial status event."""
    sums = totals(line.price for line in lines)
    order = SalesOrder(
        number=await next_number(session, "sales_order"),
        customer_id=customer_id,
        quote_id=quote_id,
        status=OrderStatus.DRAFT,
        currency=currency,
        requested_date=requested_date,
        notes=notes,
        subtotal=sums.subtotal,
        tax_total=sums.tax_total,
        total=sums.total,
    )
    session.add(order)
    await session.flush()
    session.add_all(
        SalesOrderLine(order_id=order.id, **line.columns(i)) for i, line in enumerate(lines)
    )
    await record_initial(session, order, actor=actor)
    await session.refresh(order)
    return order


# Built once: these run in every confirmation (see docs/benchmarks.md).
_LOCK_CUSTOMER = select(Customer.id).where(Customer.id == bindparam("p_id")).with_for_update()
_LINES = (
    select(SalesOrderLine)
    .where(SalesOrderLine.order_id == bindparam("p_order_id"))
    .order_by(SalesOrderLine.position)
)
_PROMISE_LINE = (
    update(cast(Table, SalesOrderLine.__table__))
    .where(SalesOrderLine.__table__.c.id == bindparam("p_id"))
    .values(promised_date=bindparam("p_date"))
)


def _wrong_state(order: SalesOrder, action: str) -> DomainError:
    return DomainError.one(
        ErrorCode.INVALID_STATE, f"cannot {action} an order in status {order.status}", ["id"]
    )


async def _lines(session: AsyncSession, order_id: int) -> list[SalesOrderLine]:
    return list((await session.execute(_LINES, {"p_order_id": order_id})).scalars())


async def confirm_order(
    session: AsyncSession,
    order_id: int,
    *,
    today: date,
    max_days_overdue: int,
    actor: str | None = None,
) -> SalesOrder:
    """DRAFT → CREDIT_HOLD (credit policy says no; nothing reserved) or CONFIRMED."""
    order = await lock_order(session, order_id)
    if order.status != OrderStatus.DRAFT:
        raise _wrong_state(order, "confirm")
    # Serialises confirmations of one customer: the second sees the first's order
    # among the open orders, so two cannot both pass a limit they exceed together.
    await session.execute(_LOCK_CUSTOMER, {"p_id": order.customer_id})
    position = await credit_position(session, order.customer_id, today)  # a new snapshot
    reason = hold_reason(position, order.total, max_days_overdue)
    if reason is not None:
        order.credit_hold_reason = reason
        await change_status(session, order, OrderStatus.CREDIT_HOLD, reason=reason, actor=actor)
    else:
        await _reserve_and_promise(session, order, today, actor)
        await change_status(session, order, OrderStatus.CONFIRMED, actor=actor)
    return order


async def release_credit_hold(
    session: AsyncSession, order_id: int, note: str, *, today: date, actor: str | None = None
) -> SalesOrder:
    """Finance's approval of a held order: reserve, promise and confirm it."""
    problems = Problems()
    check_text(problems, note, "note", required=True, max_length=500)
    problems.raise_if_any()
    order = await lock_order(session, order_id)
    if order.status != OrderStatus.CREDIT_HOLD:
        raise _wrong_state(order, "release the credit hold of")
    await _reserve_and_promise(session, order, today, actor)
    order.credit_hold_reason = None
    await change_status(session, order, OrderStatus.CONFIRMED, reason=note.strip(), actor=actor)
    return order


async def _reserve_and_promise(
    session: AsyncSession, order: SalesOrder, today: date, actor: str | None
) -> None:
    """Reserve what stock allows for each line, then promise dates for the rest."""
    lines = await _lines(session, order.id)
    by_item: dict[int, list[SalesOrderLine]] = defaultdict(list)
    for line in lines:
        by_item[line.item_id].append(line)
    reserved: dict[int, Decimal] = {}
    for item_id in sorted(by_item):
        balances = {b.warehouse_id: b for b in await ledger.lock_balances(session, item_id)}
        for line in by_item[item_id]:
            reserved[line.id] = ZERO  # nothing is reserved before confirmation
            wanted = line.quantity - line.shipped_quantity
            for warehouse_id, quantity in take(wanted, [b.stock for b in balances.values()]):
                posted = await ledger.post(
                    session, item_id=item_id, warehouse_id=warehouse_id, kind="RESERVE",
                    reserved=quantity, reference=line_reference(line.id), actor=actor,
                )
                if posted is None:  # cannot happen under the balance lock; never oversell
                    raise RuntimeError(f"reservation refused for item {item_id}")
                balances[warehouse_id].reserved += quantity
                reserved[line.id] += quantity

    backorders = {line.id: unreserved(line.quantity, line.shipped_quantity, reserved[line.id]) for line in lines}
    short = {line.item_id for line in lines if backorders[line.id] > 0}
    # the reserved part is available today; only backordered items need ATP
    promiser = Promiser(await load_atp_inputs(session, list(short)) if short else {}, today)
    promised: dict[int, date] = {}
    for line in lines:
        backorder = backorders[line.id]
        if backorder <= 0:
            promised[line.id] = today
        else:
            promised[line.id] = promiser.promise(line.item_id, backorder).date
            # a later line queues behind this one for receipts and components
            promiser.claim(line.item_id, promised[line.id], backorder)
    # one executemany, not an ORM flush per line
    if promised:
        await session.execute(_PROMISE_LINE, [{"p_id": i, "p_date": d} for i, d in promised.items()])
    order.promised_date = max(promised.values(), default=None)


async def cancel_order(
    session: AsyncSession, order_id: int, reason: str, actor: str | None = None
) -> SalesOrder:
    """Cancel an unshipped order and give its reservations back to stock."""
    problems = Problems()
    check_text(problems, reason, "reason", required=True, max_length=500)
    problems.raise_if_any()
    order = await lock_order(session, order_id)
    lines = await _lines(session, order.id)
    if order.status == OrderStatus.PARTIALLY_SHIPPED or any(line.shipped_quantity > 0 for line in lines):
        raise DomainError.one(
            ErrorCode.INVALID_STATE,
            "part of this order has shipped, so it cannot be cancelled; closeSalesOrderShort "
            "cancels what is still open", ["id"],
        )
    if order.status == OrderStatus.CANCELLED or order.status in SHIPPED_STATUSES:
        raise _wrong_state(order, "cancel")
    released = await _release(session, lines, actor)
    await change_status(session, order, OrderStatus.CANCELLED, reason=reason.strip(), actor=actor)
    await stock_freed(session, released, source=f"cancellation of {order.number}", actor=actor)
    return order


async def close_short(
    session: AsyncSession, order_id: int, reason: str, actor: str | None = None
) -> SalesOrder:
    """Cancel what is not yet shipped on every line of a confirmed order and release its
    reservations (waiting backorders take them); the order becomes SHIPPED if anything
    shipped, else CANCELLED."""
    problems = Problems()
    check_text(problems, reason, "reason", required=True, max_length=500)
    problems.raise_if_any()
    order = await lock_order(session, order_id)
    if order.status not in OPEN_ORDER_STATUSES:
        raise _wrong_state(order, "close short")
    lines = await _lines(session, order.id)
    released = await _release(session, lines, actor)
    for line in lines:
        line.cancelled_quantity = line.quantity - line.shipped_quantity
    shipped = any(line.shipped_quantity > 0 for line in lines)
    await change_status(
        session, order, OrderStatus.SHIPPED if shipped else OrderStatus.CANCELLED,
        reason=f"closed short: {reason.strip()}", actor=actor,
    )
    await stock_freed(session, released, source=f"close-short of {order.number}", actor=actor)
    return order


async def _release(session: AsyncSession, lines: list[SalesOrderLine], actor: str | None) -> set[int]:
    """Give every reservation of the lines back to stock; the items released."""
    held = await held_by_warehouse(session, [line.id for line in lines])
    # balances in one global order (item, warehouse), like every other movement
    held.sort(key=lambda h: (h.item_id, h.warehouse_id, h.line_id))
    locked: set[int] = set()
    for h in held:
        if h.item_id not in locked:
            await ledger.lock_balances(session, h.item_id)
            locked.add(h.item_id)
        posted = await ledger.post(
            session, item_id=h.item_id, warehouse_id=h.warehouse_id, kind="UNRESERVE",
            reserved=-h.quantity, reference=line_reference(h.line_id), actor=actor,
        )
        if posted is None:
            raise RuntimeError(f"unreserve refused for item {h.item_id}")
    return locked
