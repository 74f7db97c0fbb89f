"""Loading what ``domain.costing.margins`` needs, for many orders in two statements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Date, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.costing.margins import Figures, InvoiceCredit, LineSales, order_figures
from domain.finance.models import Invoice, InvoiceLine
from domain.inventory.models import StockMove
from domain.sales.models import SalesOrder, SalesOrderLine
from domain.sales.reservations import LINE_REFERENCE


async def order_figures_by_id(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, Figures]:
    """Exact revenue and cost of each order (orders with nothing on them: zero)."""
    if not order_ids:
        return {}
    ids = list(order_ids)
    L = SalesOrderLine
    of_orders = select(L.id).where(L.order_id.in_(ids)).scalar_subquery()
    invoiced = (
        select(InvoiceLine.order_line_id, func.sum(InvoiceLine.line_total).label("net"))
        .where(InvoiceLine.order_line_id.in_(of_orders))
        .group_by(InvoiceLine.order_line_id)
        .subquery()
    )
    shipped = (
        select(StockMove.reference_id.label("line_id"), (-func.sum(StockMove.value)).label("cost"))
        .where(StockMove.reference_type == LINE_REFERENCE, StockMove.kind == "SHIP",
               StockMove.reference_id.in_(of_orders))
        .group_by(StockMove.reference_id)
        .subquery()
    )
    line_rows = await session.execute(
        select(
            L.order_id, L.quantity, L.line_total, L.shipped_quantity, L.invoiced_quantity,
            func.coalesce(invoiced.c.net, 0).label("invoiced_net"),
            func.coalesce(shipped.c.cost, 0).label("shipped_cost"),
        )
        .outerjoin(invoiced, invoiced.c.order_line_id == L.id)
        .outerjoin(shipped, shipped.c.line_id == L.id)
        .where(L.order_id.in_(ids))
    )
    lines: dict[int, list[LineSales]] = defaultdict(list)
    for row in line_rows:
        lines[row.order_id].append(LineSales(
            row.quantity, row.line_total, row.shipped_quantity, row.invoiced_quantity,
            row.invoiced_net, row.shipped_cost,
        ))
    credited = select(Invoice.id).where(Invoice.order_id.in_(ids), Invoice.credited_amount > 0).scalar_subquery()
    net = (
        select(InvoiceLine.invoice_id, func.sum(InvoiceLine.line_total).label("net"))
        .where(InvoiceLine.invoice_id.in_(credited))
        .group_by(InvoiceLine.invoice_id)
        .subquery()
    )
    credit_rows = await session.execute(
        select(Invoice.order_id, Invoice.total, func.coalesce(net.c.net, 0).label("net"),
               Invoice.credited_amount)
        .outerjoin(net, net.c.invoice_id == Invoice.id)
        .where(Invoice.order_id.in_(ids), Invoice.credited_amount > 0)
    )
    credits: dict[int, list[InvoiceCredit]] = defaultdict(list)
    for row in credit_rows:
        credits[row.order_id].append(InvoiceCredit(row.net, row.total, row.credited_amount))
    return {order_id: order_figures(lines[order_id], credits[order_id]) for order_id in ids}


async def customer_order_ids(
    session: AsyncSession, customer_ids: Sequence[int], start: date | None, end: date | None
) -> dict[int, list[int]]:
    """Each customer's orders placed in [start, end] (each bound optional), by the day they were created."""
    placed = cast(SalesOrder.created_at, Date)
    bounds = [placed >= start] if start is not None else []
    bounds += [placed <= end] if end is not None else []
    rows = await session.execute(
        select(SalesOrder.customer_id, SalesOrder.id)
        .where(and_(SalesOrder.customer_id.in_(list(customer_ids)), *bounds))
        .order_by(SalesOrder.id)
    )
    found: dict[int, list[int]] = {customer_id: [] for customer_id in customer_ids}
    for customer_id, order_id in rows:
        found[customer_id].append(order_id)
    return found
