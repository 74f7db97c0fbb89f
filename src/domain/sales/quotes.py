"""Quote use cases: create a priced quote, convert an accepted one into a DRAFT order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Opportunity
from domain.sales.models import Quote, QuoteLine, QuoteStatus, SalesOrder
from domain.sales.orders import (
    NewLine,
    PricedItemLine,
    check_lines,
    insert_order,
    price_lines,
    require_customer,
)
from domain.sales.pricing import PricedLine, totals
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.numbering import next_number

CLOSED = (QuoteStatus.REJECTED, QuoteStatus.EXPIRED)


@dataclass
class NewQuote:
    customer_id: int
    lines: list[NewLine]
    opportunity_id: int | None = None
    valid_until: date | None = None


async def create_quote(session: AsyncSession, data: NewQuote, actor: str | None = None) -> Quote:
    problems = Problems()
    check_lines(problems, data.lines)
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


async def convert_quote(
    session: AsyncSession, quote_id: int, *, today: date, actor: str | None = None
) -> SalesOrder:
    """Accept the quote and create a DRAFT order with the same lines and prices."""
    quote = await session.get(Quote, quote_id, with_for_update=True, populate_existing=True)
    if quote is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "quote not found", ["id"])
    converted = (
        await session.execute(select(SalesOrder.id).where(SalesOrder.quote_id == quote_id))
    ).first()
    if quote.status in CLOSED or converted is not None:
        state = "already converted" if converted is not None else quote.status
        raise DomainError.one(ErrorCode.INVALID_STATE, f"quote is {state.lower()}", ["id"])
    if quote.valid_until is not None and quote.valid_until < today:
        raise DomainError.one(ErrorCode.INVALID_STATE, "quote expired", ["id"])
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
    return await insert_order(session, quote.customer_id, lines, quote_id=quote.id, actor=actor)
