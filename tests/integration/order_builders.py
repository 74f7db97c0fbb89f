"""Builders for order-to-cash tests: customers, stocked items and confirmed orders.

Orders are written straight to the tables and reserved through the ledger (the
convention confirmation follows: RESERVE moves referencing the order line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select

from api.relay import to_global_id
from domain.crm.models import Customer
from domain.inventory import ledger
from domain.inventory.models import Item, StockBalance, StockMove
from domain.inventory.services import StockAdjustment, adjust_stock, create_warehouse
from domain.sales.models import SalesOrder, SalesOrderLine

CENT = Decimal("0.01")


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


async def warehouse(sm: Any, code: str, default: bool = False) -> int:
    async with sm.begin() as s:
        return (await create_warehouse(s, code, f"Warehouse {code}", is_default=default)).id


async def customer(sm: Any, code: str = "ACME", terms: int = 30, limit: str = "0") -> int:
    async with sm.begin() as s:
        row = Customer(code=code, name=f"Customer {code}", payment_terms_days=terms,
                       credit_limit=Decimal(limit))
        s.add(row)
        await s.flush()
        return row.id


async def item(sm: Any, sku: str, stock: dict[int, str] | None = None) -> int:
    """An item, with on-hand stock per warehouse id."""
    async with sm.begin() as s:
        row = Item(sku=sku, name=f"Item {sku}", kind="FINISHED", procurement="BUY")
        s.add(row)
        await s.flush()
        for warehouse_id, quantity in (stock or {}).items():
            await adjust_stock(s, StockAdjustment(row.id, Decimal(quantity), "count", warehouse_id))
        return row.id


@dataclass(frozen=True)
class Line:
    item_id: int
    quantity: str
    unit_price: str
    tax_rate: str = "0"
    reserve: tuple[tuple[int, str], ...] = ()  # (warehouse id, quantity)


@dataclass(frozen=True)
class Order:
    id: int
    line_ids: list[int]
    total: Decimal

    @property
    def gid(self) -> str:
        return gid("SalesOrder", self.id)

    def line_gid(self, i: int) -> str:
        return gid("SalesOrderLine", self.line_ids[i])


async def confirmed_order(
    sm: Any, customer_id: int, lines: Sequence[Line], number: str, status: str = "CONFIRMED"
) -> Order:
    async with sm.begin() as s:
        order = SalesOrder(number=number, customer_id=customer_id, status=status)
        s.add(order)
        await s.flush()
        rows = []
        for position, line in enumerate(lines):
            quantity, price, rate = Decimal(line.quantity), Decimal(line.unit_price), Decimal(line.tax_rate)
            total = (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)
            tax = (total * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            row = SalesOrderLine(
                order_id=order.id, position=position, item_id=line.item_id, quantity=quantity,
                unit_price=price, tax_rate=rate, line_total=total, tax_amount=tax,
            )
            s.add(row)
            rows.append(row)
        await s.flush()
        order.subtotal = sum((r.line_total for r in rows), Decimal(0))
        order.tax_total = sum((r.tax_amount for r in rows), Decimal(0))
        order.total = order.subtotal + order.tax_total
        for row, line in zip(rows, lines, strict=True):
            for warehouse_id, quantity in line.reserve:
                posted = await ledger.post(
                    s, item_id=line.item_id, warehouse_id=warehouse_id, kind="RESERVE",
                    reserved=Decimal(quantity), reference=ledger.Reference("SalesOrderLine", row.id),
                )
                assert posted is not None, "not enough stock to reserve"
        return Order(order.id, [r.id for r in rows], order.total)


async def ledger_state(sm: Any) -> dict[str, Any]:
    """Balances per (item, warehouse) and whether the ledger adds up to them."""
    async with sm() as s:
        balances = {
            (r.item_id, r.warehouse_id): (r.on_hand, r.reserved)
            for r in await s.execute(select(StockBalance.__table__))
        }
        sums = {
            (r[0], r[1]): (r[2], r[3])
            for r in await s.execute(
                select(StockMove.item_id, StockMove.warehouse_id, func.sum(StockMove.quantity_on_hand),
                       func.sum(StockMove.quantity_reserved))
                .group_by(StockMove.item_id, StockMove.warehouse_id)
            )
        }
        moves = await s.scalar(select(func.count()).select_from(StockMove))
    assert sums == balances, (sums, balances)  # the ledger and the balances agree
    return {"balances": balances, "moves": moves}
