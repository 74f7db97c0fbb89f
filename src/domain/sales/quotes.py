"""Quote use cases: create, edit while DRAFT, send, reject, convert into a DRAFT order.

Lifecycle: DRAFT --sendQuote--> SENT; DRAFT or SENT --rejectQuote--> REJECTED;
DRAFT or SENT --convertQuoteToOrder--> ACCEPTED (and a DRAFT order). A DRAFT is edited
with updateQuote. EXPIRED is never stored: it is what an open (DRAFT or SENT) quote
reads once its ``validUntil`` has passed (:func:`effective_status`; in SQL
:func:`status_column`). An expired quote cannot be sent or converted; an expired DRAFT
can still be edited, and a new ``validUntil`` brings it back (its way out); an expired
SENT one can be rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Opportunity
from domain.sales.models import Quote, QuoteLine, QuoteStatus, SalesOrder
from domain.sales.orders import (
    NOTES_MAX,
    NewLine,
    PricedItemLine,
    check_edit,
    check_lines,
    insert_order,
    price_lines,
    replace_lines,
    require_customer,
)
from domain.sales.pricing import PricedLine, totals
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.names import camel
from domain.shared.numbering import next_number
from domain.shared.numbers import check_text
from domain.shared.versions import lock_versioned

# The statuses a quote can leave towards ACCEPTED or REJECTED, and in which it expires.
OPEN = (QuoteStatus.DRAFT, QuoteStatus.SENT)
UPDATABLE = ("lines", "valid_until", "notes")
REASON_MAX = 500


def is_expired(status: str, valid_until: date | None, today: date) -> bool:
    """The expiry rule: an open quote is expired from the day after ``validUntil``."""
    return status in OPEN and valid_until is not None and valid_until < today


def effective_status(status: str, valid_until: date | None, today: date) -> QuoteStatus:
    """The status a quote reads (and converts by) on ``today``."""
    return QuoteStatus.EXPIRED if is_expired(status, valid_until, today) else QuoteStatus(status)


def status_column(today: date) -> ColumnElement[str]:
    """:func:`effective_status` in SQL (the ``quotes(status:)`` filter); the same rule."""
    return case(
        (and_(Quote.status.in_(OPEN), Quote.valid_until < today), QuoteStatus.EXPIRED.value),
        else_=Quote.status,
    )


@dataclass
class NewQuote:
    customer_id: int
    lines: list[NewLine]
    opportunity_id: int | None = None
    valid_until: date | None = None
    notes: str | None = None


async def create_quote(session: AsyncSession, data: NewQuote, actor: str | None = None) -> Quote:
    """A DRAFT quote; ``validUntil`` may be any date, a past one too (quotes entered after
    the fact: such a quote reads EXPIRED at once)."""
    problems = Problems()
    check_lines(problems, data.lines)
    check_text(problems, data.notes, "notes", max_length=NOTES_MAX)
    problems.raise_if_any()
    await require_customer(session, data.customer_id)
    if data.opportunity_id is not None:
        owner = (
            await session.execute(
                select(Opportunity.customer_id).where(Opportunity.id == data.opportunity_id)
            )
        ).scalar()
        if owner is None:
            raise DomainError.one(ErrorCode.NOT_FOUND, "opportunity not found", ["opportunityId"])
        if owner != data.customer_id:
            raise DomainError.one(
                ErrorCode.INVALID, "the opportunity belongs to another customer", ["opportunityId"]
            )
    lines = await price_lines(session, data.lines)
    sums = totals(line.price for line in lines)
    quote = Quote(
        notes=data.notes,
        number=await next_number(session, "quote"),
        customer_id=data.customer_id,
        opportunity_id=data.opportunity_id,
        status=QuoteStatus.DRAFT,
        valid_until=data.valid_until,
        subtotal=sums.subtotal,
        tax_total=sums.tax_total,
        total=sums.total,
    )
    session.add(quote)
    await session.flush()
    session.add_all(
        QuoteLine(quote_id=quote.id, **line.columns(i)) for i, line in enumerate(lines)
    )
    await session.flush()
    await record_event(session, "quote.created", "Quote", quote.id,
                       {"number": quote.number, "customerId": quote.customer_id}, actor)
    await session.refresh(quote)
    return quote


async def _locked(
    session: AsyncSession, quote_id: int, expected_version: int | None = None
) -> Quote:
    return await lock_versioned(session, Quote, quote_id, expected_version, "quote")


def _refuse(quote: Quote, action: str, today: date, allowed: str) -> DomainError:
    status = effective_status(quote.status, quote.valid_until, today)
    until = f" (valid until {quote.valid_until})" if status == QuoteStatus.EXPIRED else ""
    return DomainError.one(
        ErrorCode.INVALID_STATE,
        f"cannot {action} quote {quote.number}: it is {status}{until}; {allowed}", ["id"],
    )


async def update_quote(
    session: AsyncSession, quote_id: int, changes: Mapping[str, Any], *, today: date,
    expected_version: int | None = None, actor: str | None = None,
) -> Quote:
    """Apply ``changes`` to a DRAFT quote (only the keys given; None clears ``valid_until``
    or ``notes``). ``lines`` replaces every line, priced like a new quote's."""
    new_lines = check_edit(changes, UPDATABLE)

    quote = await _locked(session, quote_id, expected_version)
    if quote.status != QuoteStatus.DRAFT:
        raise _refuse(quote, "update", today, "only a DRAFT quote is edited")
    if new_lines is not None:
        await replace_lines(session, quote, new_lines)
    if "valid_until" in changes:
        quote.valid_until = changes["valid_until"]
    if "notes" in changes:
        quote.notes = changes["notes"]
    await session.flush()
    await record_event(
        session, "quote.updated", "Quote", quote.id,
        {"number": quote.number, "fields": sorted(camel(k) for k in changes)}, actor,
    )
    await session.refresh(quote)
    return quote


async def send_quote(
    session: AsyncSession, quote_id: int, *, today: date, actor: str | None = None
) -> Quote:
    """DRAFT → SENT (a quote whose validUntil passed is not sent: edit it first)."""
    quote = await _locked(session, quote_id)
    if effective_status(quote.status, quote.valid_until, today) != QuoteStatus.DRAFT:
        raise _refuse(quote, "send", today, "only a DRAFT quote within its validity is sent")
    quote.status = QuoteStatus.SENT
    await session.flush()
    await record_event(session, "quote.sent", "Quote", quote.id, {"number": quote.number}, actor)
    await session.refresh(quote)
    return quote


async def reject_quote(
    session: AsyncSession, quote_id: int, reason: str, *, today: date, actor: str | None = None
) -> Quote:
    """DRAFT or SENT (expired too) → REJECTED, with the customer's reason."""
    problems = Problems()
    check_text(problems, reason, "reason", required=True, max_length=REASON_MAX)
    problems.raise_if_any()
    quote = await _locked(session, quote_id)
    if quote.status not in OPEN:
        raise _refuse(quote, "reject", today, "only a DRAFT or SENT quote is rejected")
    quote.status = QuoteStatus.REJECTED
    quote.rejection_reason = reason.strip()
    await session.flush()
    await record_event(
        session, "quote.rejected", "Quote", quote.id,
        {"number": quote.number, "reason": quote.rejection_reason}, actor,
    )
    await session.refresh(quote)
    return quote


async def convert_quote(
    session: AsyncSession, quote_id: int, *, today: date, actor: str | None = None
) -> SalesOrder:
    """Accept a DRAFT or SENT quote that has not expired and create a DRAFT order with the
    same lines and prices."""
    quote = await _locked(session, quote_id)
    converted = (
        await session.execute(select(SalesOrder.id).where(SalesOrder.quote_id == quote_id))
    ).first()
    if converted is not None:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"quote {quote.number} is already converted", ["id"]
        )
    if effective_status(quote.status, quote.valid_until, today) not in OPEN:
        raise _refuse(quote, "convert", today, "only a DRAFT or SENT quote within its validity is converted")
    rows = (
        await session.execute(
            select(QuoteLine).where(QuoteLine.quote_id == quote_id).order_by(QuoteLine.position)
        )
    ).scalars()
    lines = [
        PricedItemLine(row.item_id, PricedLine(
            quantity=row.quantity, unit_price=row.unit_price,
            discount_percent=row.discount_percent, tax_rate=row.tax_rate,
            line_total=row.line_total, tax_amount=row.tax_amount,
        ))
        for row in rows
    ]
    quote.status = QuoteStatus.ACCEPTED
    await session.flush()
    await record_event(session, "quote.accepted", "Quote", quote.id, {"number": quote.number}, actor)
    return await insert_order(
        session, quote.customer_id, lines, quote_id=quote.id, notes=quote.notes, actor=actor
    )
