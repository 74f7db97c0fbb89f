"""Receivables use cases: invoicing what shipped, recording payments, crediting invoices,
closing settled orders.

Lock order: invoice rows (ascending id), then the orders they belong to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Customer
from domain.finance.allocation import OpenInvoice, allocate, invoiced_share
from domain.finance.models import (
    SETTLED_INVOICE_STATUSES,
    UNPAID_INVOICE_STATUSES,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    invoice_balance,
    invoice_status,
)
from domain.sales.locks import lock_order
from domain.sales.models import OrderStatus, SalesOrderLine
from domain.sales.status import change_status
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.money import cents
from domain.shared.numbering import next_number
from domain.shared.numbers import check_decimal, check_text


@dataclass(frozen=True)
class NewPayment:
    customer_id: int
    amount: Decimal
    received_on: date | None = None
    reference: str | None = None
    invoice_id: int | None = None  # None: the oldest open invoices first


@dataclass(frozen=True)
class NewCreditNote:
    invoice_id: int
    amount: Decimal
    reason: str


async def invoice_order(
    session: AsyncSession, order_id: int, actor: str | None = None, today: date | None = None
) -> Invoice:
    """Invoice every shipped, not yet invoiced quantity of the order."""
    today = today or date.today()
    order = await lock_order(session, order_id)
    lines = (
        await session.execute(
            select(SalesOrderLine).where(SalesOrderLine.order_id == order.id)
            .order_by(SalesOrderLine.position, SalesOrderLine.id)
            .execution_options(populate_existing=True)
        )
    ).scalars().all()
    due = [(line, line.shipped_quantity - line.invoiced_quantity) for line in lines]
    due = [(line, q) for line, q in due if q > 0]
    if not due:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, "nothing has shipped that is not invoiced yet", ["id"]
        )
    customer = await session.get(Customer, order.customer_id)
    assert customer is not None  # a foreign key

    rows: list[dict[str, Any]] = []
    total = Decimal(0)
    for line, quantity in due:
        amount = invoiced_share(line.line_total, line.quantity, line.invoiced_quantity, quantity)
        tax = invoiced_share(line.tax_amount, line.quantity, line.invoiced_quantity, quantity)
        rows.append({"order_line_id": line.id, "quantity": quantity, "line_total": amount,
                     "tax_amount": tax})
        total += amount + tax
        line.invoiced_quantity = line.invoiced_quantity + quantity

    invoice = Invoice(
        number=await next_number(session, "invoice"),
        customer_id=customer.id,
        order_id=order.id,
        issue_date=today,
        due_date=today + timedelta(days=customer.payment_terms_days),
        total=total,
        paid_amount=Decimal(0),
        # an invoice of nothing owes nothing
        status=InvoiceStatus.OPEN if total > 0 else InvoiceStatus.PAID,
    )
    session.add(invoice)
    await session.flush()
    await session.execute(insert(InvoiceLine), [{"invoice_id": invoice.id, **r} for r in rows])
    await record_event(
        session, "invoice.created", "Invoice", invoice.id,
        {"number": invoice.number, "orderId": order.id, "customerId": customer.id,
         "total": str(total), "dueDate": invoice.due_date.isoformat()},
        actor,
    )
    if invoice.status == InvoiceStatus.PAID:
        await close_paid_orders(session, [order.id], actor)
    await session.refresh(invoice)
    return invoice


async def record_payment(
    session: AsyncSession, data: NewPayment, actor: str | None = None, today: date | None = None
) -> tuple[Payment, list[Invoice]]:
    """Apply a payment to the named invoice or the oldest open ones; refuse any surplus."""
    problems = Problems()
    check_decimal(problems, data.amount, "amount", places=2, positive=True, label="amount")
    check_text(problems, data.reference, "reference", max_length=120)
    problems.raise_if_any()

    customer = await session.get(Customer, data.customer_id)
    if customer is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "customer not found", ["customerId"])

    if data.invoice_id is not None:
        stmt = select(Invoice).where(Invoice.id == data.invoice_id)
    else:
        stmt = select(Invoice).where(Invoice.customer_id == customer.id, Invoice.status.in_(UNPAID_INVOICE_STATUSES))
    # row locks in id order: concurrent payments queue instead of overpaying or deadlocking
    invoices = (
        await session.execute(
            stmt.order_by(Invoice.id).with_for_update().execution_options(populate_existing=True)
        )
    ).scalars().all()
    if data.invoice_id is not None:
        if not invoices or invoices[0].customer_id != customer.id:
            raise DomainError.one(
                ErrorCode.NOT_FOUND, "invoice not found for this customer", ["invoiceId"]
            )
        if invoices[0].status not in UNPAID_INVOICE_STATUSES:
            raise DomainError.one(
                ErrorCode.INVALID_STATE, f"invoice is {invoices[0].status}", ["invoiceId"]
            )

    allocation = allocate(
        data.amount, [OpenInvoice(i.id, i.due_date, invoice_balance(i)) for i in invoices]
    )
    if allocation.surplus > 0:
        owed = data.amount - allocation.surplus
        raise DomainError.one(
            ErrorCode.INVALID,
            f"amount exceeds what is owed ({owed}) by {allocation.surplus}",
            ["amount"],
        )

    payment = Payment(
        customer_id=customer.id,
        amount=data.amount,
        received_on=data.received_on or today or date.today(),
        reference=data.reference.strip() if data.reference else None,
    )
    session.add(payment)
    await session.flush()
    await session.execute(
        insert(PaymentAllocation),
        [{"payment_id": payment.id, "invoice_id": iid, "amount": amt} for iid, amt in allocation.applied],
    )
    by_id = {i.id: i for i in invoices}
    applied = []
    for invoice_id, amount in allocation.applied:
        invoice = by_id[invoice_id]
        invoice.paid_amount = invoice.paid_amount + amount
        invoice.status = invoice_status(invoice)
        applied.append(invoice)
    await session.flush()

    await record_event(
        session, "payment.recorded", "Payment", payment.id,
        {"customerId": customer.id, "amount": str(data.amount),
         "applied": [{"invoiceId": iid, "amount": str(amt)} for iid, amt in allocation.applied]},
        actor,
    )
    for invoice in applied:
        await record_event(
            session, "invoice.payment_applied", "Invoice", invoice.id,
            {"paymentId": payment.id, "paidAmount": str(invoice.paid_amount), "status": invoice.status},
            actor,
        )
    await close_paid_orders(
        session, [i.order_id for i in applied if i.status == InvoiceStatus.PAID and i.order_id is not None], actor
    )
    return payment, applied


async def issue_credit_note(
    session: AsyncSession, data: NewCreditNote, actor: str | None = None
) -> tuple[CreditNote, Invoice]:
    """Credit part or all of an invoice's balance.

    The invoice row is locked (as ``record_payment`` locks it), so a payment and a
    credit note in parallel queue and never take the balance below zero. The new
    status follows ``invoice_status``: credited so that nothing is owed, it is VOID if
    nothing was paid and PAID otherwise; its order then closes if it is settled.
    """
    problems = Problems()
    check_decimal(problems, data.amount, "amount", places=2, positive=True, label="amount")
    check_text(problems, data.reason, "reason", required=True, max_length=500)
    problems.raise_if_any()

    invoice = (
        await session.execute(
            select(Invoice).where(Invoice.id == data.invoice_id)
            .with_for_update().execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if invoice is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "invoice not found", ["invoiceId"])
    if invoice.status not in UNPAID_INVOICE_STATUSES:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"invoice is {invoice.status}: nothing is owed to credit", ["invoiceId"]
        )
    balance = invoice_balance(invoice)
    if data.amount > balance:
        raise DomainError.one(
            ErrorCode.INVALID, f"amount exceeds the invoice's balance ({balance})", ["amount"]
        )

    note = CreditNote(
        number=await next_number(session, "credit_note"),
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        amount=data.amount,
        reason=data.reason.strip(),
        created_by=actor,
    )
    session.add(note)
    invoice.credited_amount = invoice.credited_amount + data.amount
    invoice.status = invoice_status(invoice)
    await session.flush()
    await record_event(
        session, "invoice.credited", "Invoice", invoice.id,
        {"creditNoteId": note.id, "number": note.number, "customerId": invoice.customer_id,
         "amount": str(cents(data.amount)), "creditedAmount": str(invoice.credited_amount),
         "balance": str(invoice_balance(invoice)), "status": invoice.status},
        actor,
    )
    if invoice.status in SETTLED_INVOICE_STATUSES and invoice.order_id is not None:
        await close_paid_orders(session, [invoice.order_id], actor)
    await session.refresh(note)
    return note, invoice


async def close_paid_orders(session: AsyncSession, order_ids: Iterable[int], actor: str | None) -> None:
    """Close each order that is shipped, fully invoiced and has every invoice settled.

    Settled: PAID, or VOID (credited in full): nothing is owed on the order any more,
    so an order whose invoices were credited closes like a paid one; its status
    event's reason says which. Only a SHIPPED order closes.
    """
    for order_id in sorted(set(order_ids)):
        order = await lock_order(session, order_id)  # it exists: invoices reference it
        if order.status != OrderStatus.SHIPPED:
            continue
        lines = (
            await session.execute(
                select(SalesOrderLine.quantity, SalesOrderLine.invoiced_quantity)
                .where(SalesOrderLine.order_id == order_id)
            )
        ).all()
        if any(invoiced < quantity for quantity, invoiced in lines):
            continue
        invoices = (
            await session.execute(
                select(Invoice.status, Invoice.credited_amount).where(Invoice.order_id == order_id)
            )
        ).all()
        if invoices and all(status in SETTLED_INVOICE_STATUSES for status, _ in invoices):
            reason = (
                "shipped, invoiced and settled (paid or credited)" if any(c > 0 for _, c in invoices)
                else "shipped, invoiced and paid"
            )
            await change_status(session, order, OrderStatus.CLOSED, reason=reason, actor=actor)
