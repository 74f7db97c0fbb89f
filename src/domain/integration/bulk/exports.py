"""Export rows: customers, items and order lines, streamed from a server-side cursor.

Column names are the import's where they overlap (``kinds``), so an exported customers
or items file imports as it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.integration.bulk.kinds import CUSTOMERS, ITEMS

ORDER_COLUMNS = (
    "order_number", "customer_code", "status", "currency", "requested_date", "promised_date",
    "order_total", "line", "sku", "quantity", "unit_price", "discount_percent", "tax_rate",
    "line_total", "shipped_quantity", "invoiced_quantity", "cancelled_quantity", "line_promised_date",
)
COLUMNS = {
    "customers": tuple(CUSTOMERS.column_names()),
    "items": tuple(ITEMS.column_names()),
    "orders": ORDER_COLUMNS,
}
_QUERIES = {
    "customers": text(
        "SELECT code, name, email, phone, segment, tags, payment_terms_days, credit_limit "
        "FROM customers ORDER BY code"
    ),
    "items": text(
        "SELECT i.sku, i.name, i.uom, i.kind, i.procurement, i.lead_time_days, i.safety_stock, i.scrap_rate, "
        "i.lot_sizing, i.fixed_lot_size, i.min_order_quantity, i.lot_multiple, i.list_price, i.standard_cost, "
        "s.code AS default_supplier, i.active "
        "FROM items i LEFT JOIN suppliers s ON s.id = i.default_supplier_id ORDER BY i.sku"
    ),
    "orders": text(
        "SELECT o.number AS order_number, c.code AS customer_code, o.status, o.currency, o.requested_date, "
        "o.promised_date, o.total AS order_total, l.position + 1 AS line, i.sku, l.quantity, l.unit_price, "
        "l.discount_percent, l.tax_rate, l.line_total, l.shipped_quantity, l.invoiced_quantity, "
        "l.cancelled_quantity, l.promised_date AS line_promised_date "
        "FROM sales_orders o JOIN customers c ON c.id = o.customer_id "
        "JOIN sales_order_lines l ON l.order_id = o.id JOIN items i ON i.id = l.item_id "
        "ORDER BY o.number, l.position"
    ),
}
_COUNTS = {
    "customers": text("SELECT count(*) FROM customers"),
    "items": text("SELECT count(*) FROM items"),
    "orders": text("SELECT count(*) FROM sales_order_lines"),
}
FETCH = 2000


async def count(session: AsyncSession, kind: str) -> int:
    """How many rows ``stream`` will give (for the progress bar)."""
    return int((await session.execute(_COUNTS[kind])).scalar_one())


async def stream(session: AsyncSession, kind: str) -> AsyncIterator[dict[str, Any]]:
    """The kind's rows by column name, ``FETCH`` at a time from a server-side cursor."""
    query: TextClause = _QUERIES[kind]
    result = await session.stream(query.execution_options(yield_per=FETCH))
    async for row in result.mappings():
        yield dict(row)
