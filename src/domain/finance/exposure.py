"""Loading credit positions from the ledger of documents (the rules are in credit.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.ext.asyncio import AsyncSession

from domain.finance.credit import ZERO, CreditPosition, days_overdue
from domain.finance.models import BALANCE_SQL, UNPAID_INVOICE_STATUSES
from domain.sales.models import OrderStatus
from domain.shared.money import cents

# Orders that hold credit until invoiced: confirmed, held, or partly/fully shipped.
COMMITTED_ORDER_STATUSES = (
    OrderStatus.CREDIT_HOLD, OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED,
)


# Hand-written and prepared once: this runs inside every order confirmation, where
# building the equivalent expression tree per call cost more than the query itself.
POSITIONS = text(
    f"""
    SELECT c.id, c.credit_limit, r.open, r.overdue, r.oldest_due, o.open AS open_orders
    FROM customers c
    LEFT JOIN (
        SELECT customer_id,
               sum({BALANCE_SQL}) AS open,
               sum(CASE WHEN due_date < :today THEN {BALANCE_SQL} ELSE 0 END) AS overdue,
               min(CASE WHEN due_date < :today THEN due_date END) AS oldest_due
        FROM invoices
        WHERE customer_id = ANY(:ids) AND status = ANY(:unpaid)
        GROUP BY customer_id
    ) r ON r.customer_id = c.id
    LEFT JOIN (
        -- the uninvoiced share of each committed line, at its value incl. tax
        SELECT o.customer_id,
               sum((l.line_total + l.tax_amount) * (l.quantity - l.invoiced_quantity) / l.quantity) AS open
        FROM sales_orders o JOIN sales_order_lines l ON l.order_id = o.id
        WHERE o.customer_id = ANY(:ids) AND o.status = ANY(:committed)
        GROUP BY o.customer_id
    ) o ON o.customer_id = c.id
    WHERE c.id = ANY(:ids)
    """
).bindparams(
    bindparam("ids", type_=ARRAY(BIGINT)),
    bindparam("today", type_=Date),
    bindparam("unpaid", value=list(UNPAID_INVOICE_STATUSES), type_=ARRAY(String)),
    bindparam("committed", value=list(COMMITTED_ORDER_STATUSES), type_=ARRAY(String)),
)


async def credit_positions(
    session: AsyncSession, customer_ids: Sequence[int], today: date
) -> dict[int, CreditPosition]:
    """Positions of several customers in one statement, whatever their number.

    To decide on a new order, lock the customer row first and call this in a later
    statement: under READ COMMITTED only a statement that starts after the lock is
    granted sees the orders committed by whoever held it.
    """
    rows = await session.execute(POSITIONS, {"ids": list(customer_ids), "today": today})
    return {
        row.id: CreditPosition(
            limit=row.credit_limit,
            open_receivables=_cents(row.open),
            open_orders=_cents(row.open_orders),
            overdue_amount=_cents(row.overdue),
            max_days_overdue=days_overdue(row.oldest_due, today) if row.oldest_due is not None else 0,
        )
        for row in rows
    }


async def credit_position(session: AsyncSession, customer_id: int, today: date) -> CreditPosition:
    return (await credit_positions(session, [customer_id], today))[customer_id]


def _cents(value: Decimal | None) -> Decimal:
    return ZERO if value is None else cents(Decimal(value))
