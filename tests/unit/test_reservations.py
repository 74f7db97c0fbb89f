"""What is reserved for an order line, and its backorder: one definition, every form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql

from domain.planning import run
from domain.sales.models import OPEN_ORDER_STATUSES, OrderStatus, SalesOrderLine
from domain.sales.reservations import (
    LINE_REFERENCE,
    RESERVED,
    UNRESERVED,
    backordered,
    has_backorders,
    reserved_sql,
    unreserved,
)

D = Decimal


def _sql(statement: Select[Any]) -> str:
    compiled = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return " ".join(str(compiled).split())


def test_the_sum_of_the_lines_ledger_moves() -> None:
    assert " ".join(reserved_sql("l.id").split()) == (
        "SELECT coalesce(sum(stock_moves.quantity_reserved), 0) AS reserved FROM stock_moves"
        f" WHERE stock_moves.reference_type = '{LINE_REFERENCE}' AND stock_moves.reference_id = l.id"
    )


def test_the_orm_subquery_is_the_same_sum_correlated_to_the_line() -> None:
    sql = _sql(select(SalesOrderLine.id, RESERVED, UNRESERVED))
    inner = " ".join(reserved_sql("sales_order_lines.id").split())
    assert sql.count(f"({inner})") == 2
    assert sql.endswith("FROM sales_order_lines")  # correlated, not a cross join


def test_the_mrp_load_reads_the_same_definition() -> None:
    assert reserved_sql("l.id") in run._SALES_DEMAND


def test_open_orders_are_the_confirmed_not_wholly_shipped() -> None:
    assert set(OPEN_ORDER_STATUSES) == {OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED}
    assert [s for s in OrderStatus if has_backorders(s)] == list(OPEN_ORDER_STATUSES)
    assert has_backorders("CONFIRMED") and not has_backorders("DRAFT")  # the column's strings


def test_backorder_is_what_is_neither_shipped_nor_reserved_of_an_open_order() -> None:
    assert unreserved(D(10), D(2), D(3)) == D(5)
    assert backordered(OrderStatus.PARTIALLY_SHIPPED, D(10), D(2), D(3)) == D(5)
    assert backordered("CONFIRMED", D(10), D(0), D(10)) == D(0)
    for status in (OrderStatus.DRAFT, OrderStatus.CREDIT_HOLD, OrderStatus.SHIPPED, OrderStatus.CANCELLED):
        assert backordered(status, D(10), D(0), D(0)) == D(0)
