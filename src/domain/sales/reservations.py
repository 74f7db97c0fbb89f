"""What is reserved for a sales order line, and what it still lacks (its backorder).

A reservation lives in one place: the stock ledger. What is reserved for a line is
the sum of ``quantity_reserved`` over the moves referencing it (``LINE_REFERENCE``,
line id): RESERVE adds, UNRESERVE and SHIP take away. Every read of it goes
through this module: as a correlated subquery (``RESERVED``), per line
(``reserved_by_line``), per line and warehouse (``held_by_warehouse``), or as SQL
text for hand-written asyncpg statements (``reserved_sql``).

A line's backorder is what is neither shipped nor reserved while its order is
open (``OPEN_ORDER_STATUSES``): what available-to-promise promises a date for, MRP
plans for and make-to-order builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.ledger import Reference
from domain.inventory.models import StockMove, Warehouse
from domain.sales.models import OPEN_ORDER_STATUSES, SalesOrderLine

ZERO = Decimal(0)
# the reference_type of the ledger moves of an order line
LINE_REFERENCE = "SalesOrderLine"


def line_reference(line_id: int) -> Reference:
    """The ledger reference of a movement made for an order line."""
    return Reference(LINE_REFERENCE, line_id)


def _line_moves(which: ColumnElement[bool]) -> ColumnElement[bool]:
    """Moves of the order lines ``which`` selects (a condition on ``reference_id``)."""
    return and_(StockMove.reference_type == LINE_REFERENCE, which)


_HELD = func.sum(StockMove.quantity_reserved)


def reserved_of(line_id: SQLColumnExpression[Any]) -> Select[Decimal]:
    """What is reserved for the line whose id is ``line_id``: one row, 0 when nothing is."""
    return select(func.coalesce(_HELD, ZERO).label("reserved")).where(
        _line_moves(StockMove.reference_id == line_id)
    )


# What is reserved for each row of a statement over sales_order_lines (correlated).
RESERVED = reserved_of(SalesOrderLine.id).correlate(SalesOrderLine).scalar_subquery()
# ...and what of it is neither shipped, cancelled (closed short) nor reserved (the
# backorder of an open order).
UNRESERVED = (
    SalesOrderLine.quantity - SalesOrderLine.shipped_quantity - SalesOrderLine.cancelled_quantity - RESERVED
)


def reserved_sql(line_id: str) -> str:
    """``reserved_of`` as PostgreSQL text for hand-written statements: ``line_id`` is the
    SQL of the line's id in the enclosing statement, e.g. ``"l.id"``."""
    statement = reserved_of(literal_column(line_id))
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialects are untyped
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def unreserved(quantity: Decimal, shipped: Decimal, reserved: Decimal, cancelled: Decimal = ZERO) -> Decimal:
    """What of a line is neither shipped, cancelled nor reserved (``UNRESERVED`` on loaded numbers)."""
    return quantity - shipped - cancelled - reserved


def has_backorders(order_status: str) -> bool:
    """Whether lines of an order in ``order_status`` can be backordered (open orders only)."""
    return order_status in OPEN_ORDER_STATUSES


def backordered(
    order_status: str, quantity: Decimal, shipped: Decimal, reserved: Decimal, cancelled: Decimal = ZERO
) -> Decimal:
    """A line's backorder: what is neither shipped, cancelled nor reserved while its order is open, else 0."""
    return unreserved(quantity, shipped, reserved, cancelled) if has_backorders(order_status) else ZERO


async def reserved_by_line(session: AsyncSession, line_ids: Sequence[int]) -> dict[int, Decimal]:
    """What is reserved for each of the lines; a line without moves is left out."""
    rows = await session.execute(
        select(StockMove.reference_id, _HELD)
        .where(_line_moves(StockMove.reference_id.in_(list(line_ids))))
        .group_by(StockMove.reference_id)
    )
    return {line_id: quantity for line_id, quantity in rows if line_id is not None}


@dataclass(frozen=True, slots=True)
class Held:
    """What is reserved for one line in one warehouse."""

    line_id: int
    item_id: int
    warehouse_id: int
    is_default: bool
    quantity: Decimal


async def held_by_warehouse(session: AsyncSession, line_ids: Sequence[int]) -> list[Held]:
    """Where the lines' reservations are held: one row per line and warehouse holding more
    than 0, by line id, then default warehouse first and warehouse id."""
    rows = await session.execute(
        select(StockMove.reference_id, StockMove.item_id, StockMove.warehouse_id, Warehouse.is_default, _HELD)
        .join(Warehouse, Warehouse.id == StockMove.warehouse_id)
        .where(_line_moves(StockMove.reference_id.in_(list(line_ids))))
        .group_by(StockMove.reference_id, StockMove.item_id, StockMove.warehouse_id, Warehouse.is_default)
        .having(_HELD > 0)
        .order_by(StockMove.reference_id, Warehouse.is_default.desc(), StockMove.warehouse_id)
    )
    return [
        Held(line_id, item_id, warehouse_id, is_default, quantity)
        for line_id, item_id, warehouse_id, is_default, quantity in rows
        if line_id is not None  # filtered on reference_id; narrows the type
    ]
