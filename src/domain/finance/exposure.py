"""Loading credit positions from the ledger of documents (the rules are in credit.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Customer
from domain.finance.credit import ZERO, CreditPosition
from domain.finance.models import Invoice
from domain.sales.models import SalesOrder, SalesOrderLine

CENT = Decimal("0.01")
# Orders that hold credit until invoiced: confirmed, held, or partly/fully shipped.
COMMITTED = ("CREDIT_HOLD", "CONFIRMED", "PARTIALLY_SHIPPED", "SHIPPED")
UNPAID = ("OPEN", "PARTIALLY_PAID")


async def credit_positions(
    session: AsyncSession, customer_ids: Sequence[int], today: date
) -> dict[int, CreditPosition]:
    """Positions of several customers in one statement, whatever their number.

    To decide on a new order, lock the customer row first and call this in a later
    statement: under READ COMMITTED only a statement that starts after the lock is
    granted sees the orders committed by whoever held it.
    """
    ids = list(customer_ids)
    balance = Invoice.total - Invoice.paid_amount
    receivables = (
        select(
            Invoice.customer_id,
            func.sum(balance).label("open"),
            func.sum(case((Invoice.due_date < today, balance), else_=0)).label("overdue"),
            func.min(case((Invoice.due_date < today, Invoice.due_date))).label("oldest_due"),
        )
        .where(Invoice.customer_id.in_(ids), Invoice.status.in_(UNPAID))
        .group_by(Invoice.customer_id)
        .subquery()
    )
    # the uninvoiced share of each committed line, at its value incl. tax
    uninvoiced = (
        (SalesOrderLine.line_total + SalesOrderLine.tax_amount)
        * (SalesOrderLine.quantity - SalesOrderLine.invoiced_quantity)
        / SalesOrderLine.quantity
    )
    orders = (
        select(SalesOrder.customer_id, func.sum(uninvoiced).label("open"))
        .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
        .where(SalesOrder.customer_id.in_(ids), SalesOrder.status.in_(COMMITTED))
        .group_by(SalesOrder.customer_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Customer.id, Customer.credit_limit, receivables.c.open, receivables.c.overdue,
            receivables.c.oldest_due, orders.c.open.label("open_orders"),
        )
        .outerjoin(receivables, receivables.c.customer_id == Customer.id)
        .outerjoin(orders, orders.c.customer_id == Customer.id)
        .where(Customer.id.in_(ids))
    )
    return {
        row.id: CreditPosition(
            limit=row.credit_limit,
            open_receivables=_cents(row.open),
            open_orders=_cents(row.open_orders),
            overdue_amount=_cents(row.overdue),
            max_days_overdue=(today - row.oldest_due).days if row.oldest_due is not None else 0,
        )
        for row in rows
    }


async def credit_position(session: AsyncSession, customer_id: int, today: date) -> CreditPosition:
    return (await credit_positions(session, [customer_id], today))[customer_id]


def _cents(value: Decimal | None) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
