"""Writes the catalogue of ``mrp_plan.catalogue`` into the real tables with COPY (for bench/mrp.py).

The rows are what the API would have written: items, BOMs, stock through the ledger
in two warehouses, confirmed and partly shipped sales orders (some lines partly
reserved) for the sales demand, open opportunities for the forecast demand, open and
partly received purchase orders for the scheduled receipts; plus history that planning
must skip (shipped orders, received purchase orders, lost, won or unlikely
opportunities). Shipped, reserved and received quantities are added to the line
quantities, so what planning loads is exactly the catalogue.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from mrp_plan import START, catalogue

from domain.planning import Demand, PlanItem, Receipt

CHUNK = 1_000_000  # rows per copy_records_to_table call
ZERO = Decimal(0)
TAX_RATE = Decimal(20)
MAIN, EAST = 1, 2


@dataclass
class Seeded:
    items: int = 0
    bom_lines: int = 0
    sales_lines: int = 0
    forecast_lines: int = 0
    receipts: int = 0
    skipped_rows: int = 0  # history planning does not read, or only sums
    seconds: float = 0.0


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


async def _copy(conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    for first in range(0, len(rows), CHUNK):
        await conn.copy_records_to_table(table, records=rows[first:first + CHUNK], columns=columns)


def _grouped(demands: list[Demand], source: str) -> list[tuple[date, list[tuple[int, Decimal]]]]:
    """The demand of one source by date, in documents of up to 5 lines (a document has one date)."""
    by_date: dict[date, list[tuple[int, Decimal]]] = defaultdict(list)
    for demand in demands:
        if demand.source == source:
            by_date[demand.date].append((demand.item_id, demand.quantity))
    return [(when, wanted[first:first + 5]) for when, wanted in sorted(by_date.items())
            for first in range(0, len(wanted), 5)]


@dataclass
class _Sales:
    customers: int
    price: dict[int, Decimal]
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    reservations: list[tuple[int, Decimal, int]] = field(default_factory=list)  # item, quantity, line id

    def add(self, status: str, requested: date, lines: list[tuple[int, Decimal, Decimal]]) -> None:
        """An order of (item, quantity, shipped) lines."""
        order_id = len(self.orders) + 1
        subtotal = tax = ZERO
        for position, (item_id, quantity, shipped) in enumerate(lines):
            line_total = _money(quantity * self.price[item_id])
            line_tax = _money(line_total * TAX_RATE / 100)
            subtotal += line_total
            tax += line_tax
            self.lines.append((len(self.lines) + 1, order_id, position, item_id, quantity, shipped,
                               self.price[item_id], TAX_RATE, line_total, line_tax, requested))
        self.orders.append((order_id, f"SO-{order_id:08d}", 1 + order_id % self.customers, status, requested,
                            requested, subtotal, tax, subtotal + tax))


def _sales(demands: list[Demand], finished: list[int], sales: _Sales, rng: random.Random) -> tuple[int, int]:
    """Open orders for the sales demand, then as many shipped ones; (open lines, history lines)."""
    for when, wanted in _grouped(demands, "SALES_ORDER"):
        partly_shipped = rng.random() < 0.1
        lines = []
        for item_id, quantity in wanted:
            shipped = Decimal(rng.randint(1, 5)) if partly_shipped else ZERO
            reserved = Decimal(rng.randint(1, 5)) if rng.random() < 0.1 else ZERO
            if reserved:
                sales.reservations.append((item_id, reserved, len(sales.lines) + len(lines) + 1))
            lines.append((item_id, quantity + shipped + reserved, shipped))
        sales.add("PARTIALLY_SHIPPED" if partly_shipped else "CONFIRMED", when, lines)
    open_lines = len(sales.lines)
    for k in range(len(sales.orders)):
        when = START.replace(year=START.year - 1) if k % 2 else START.replace(month=1)
        history = []
        for _ in range(rng.randint(1, 5)):
            quantity = Decimal(rng.randint(1, 20))
            history.append((rng.choice(finished), quantity, quantity))
        sales.add(rng.choice(("SHIPPED", "CLOSED")), when, history)
    return open_lines, len(sales.lines) - open_lines


def _stock(items: list[PlanItem], reservations: list[tuple[int, Decimal, int]]) -> tuple[list[Any], list[Any]]:
    """Balances (a quarter of the items in two warehouses) and the ledger moves that made them."""
    reserved: dict[int, Decimal] = defaultdict(Decimal)
    for item_id, quantity, _ in reservations:
        reserved[item_id] += quantity
    balances: list[tuple[int, int, Decimal, Decimal]] = []
    for item in items:
        held = reserved.get(item.id, ZERO)
        free = item.on_hand_available
        if not free + held:
            continue
        east = free // 2 if item.id % 4 == 0 else ZERO
        balances.append((item.id, MAIN, free + held - east, held))
        if east:
            balances.append((item.id, EAST, east, ZERO))
    moves = [(item_id, warehouse, "ADJUSTMENT", on_hand, ZERO, "opening stock", None, None)
             for item_id, warehouse, on_hand, _ in balances]
    moves += [(item_id, MAIN, "RESERVE", ZERO, quantity, None, "SalesOrderLine", line_id)
              for item_id, quantity, line_id in reservations]
    return balances, moves


def _opportunities(demands: list[Demand], finished: list[int], customers: int, price: dict[int, Decimal],
                   rng: random.Random) -> tuple[list[Any], list[Any], int]:
    """Open opportunities at 50–90% for the forecast demand, then as many that planning skips."""
    opportunities: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []

    def add(stage: str, probability: int, when: date, wanted: list[tuple[int, Decimal]]) -> None:
        opportunity_id = len(opportunities) + 1
        for position, (item_id, quantity) in enumerate(wanted):
            lines.append((opportunity_id, position, item_id, quantity, price[item_id]))
        amount = _money(sum((quantity * price[item_id] for item_id, quantity in wanted), ZERO))
        opportunities.append((opportunity_id, 1 + opportunity_id % customers, f"Opportunity {opportunity_id}",
                              stage, probability, amount, when))

    for when, wanted in _grouped(demands, "FORECAST"):
        add(rng.choice(("PROPOSAL", "NEGOTIATION")), rng.choice((50, 60, 75, 90)), when, wanted)
    open_lines = len(lines)
    for _ in range(len(opportunities)):
        stage, probability = rng.choice((("LOST", 0), ("WON", 100), ("PROSPECTING", 10), ("QUALIFICATION", 25)))
        add(stage, probability, START,
            [(rng.choice(finished), Decimal(rng.randint(1, 20))) for _ in range(rng.randint(1, 5))])
    return opportunities, lines, open_lines


def _purchases(receipts: list[Receipt], bought: list[int], price: dict[int, Decimal],
               rng: random.Random) -> tuple[list[Any], list[Any], int]:
    """Open purchase orders of up to 10 lines for the receipts (some partly received), then as
    many received ones."""
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    for first in range(0, len(receipts), 10):
        order_id = len(orders) + 1
        partly = rng.random() < 0.1
        for position, receipt in enumerate(receipts[first:first + 10]):
            received = Decimal(rng.randint(1, 10)) if partly else ZERO
            lines.append((order_id, position, receipt.item_id, receipt.quantity + received, received,
                          _money(price[receipt.item_id] * Decimal("0.6")), receipt.date))
        orders.append((order_id, f"PO-{order_id:08d}", _supplier(order_id),
                       "PARTIALLY_RECEIVED" if partly else "OPEN"))
    open_lines = len(lines)
    for _ in range(len(orders)):
        order_id = len(orders) + 1
        for position in range(rng.randint(1, 10)):
            quantity = Decimal(rng.randint(10, 300))
            lines.append((order_id, position, rng.choice(bought), quantity, quantity, Decimal(1),
                          START.replace(month=1)))
        orders.append((order_id, f"PO-{order_id:08d}", _supplier(order_id), "RECEIVED"))
    return orders, lines, open_lines


SUPPLIERS = 97


def _supplier(key: int) -> int:
    """The id of one of the SUPPLIERS suppliers, spread by ``key``."""
    return key % SUPPLIERS + 1


def _item_rows(items: list[PlanItem], finished: set[int], price: dict[int, Decimal]) -> list[tuple[Any, ...]]:
    rows = []
    for item in items:
        kind = "FINISHED" if item.id in finished else ("SEMI_FINISHED" if item.bom else "RAW_MATERIAL")
        rule = item.lot_sizing
        rows.append((
            item.id, f"ITEM-{item.id:07d}", f"Item {item.id} ({kind.lower()})", item.uom, kind,
            item.procurement, item.lead_time_days, item.safety_stock, item.scrap_rate, rule,
            item.fixed_lot_size if rule == "FIXED_ORDER_QUANTITY" else None,
            item.min_order_quantity if rule == "MIN_MULTIPLE" else None,
            item.lot_multiple if rule == "MIN_MULTIPLE" else None,
            price[item.id], _money(price[item.id] * Decimal("0.6")),
            _supplier(item.id) if item.procurement != "MAKE" else None,
        ))
    return rows


async def seed(dsn: str, n: int, seed_value: int) -> Seeded:
    """Write the catalogue of ``n`` items into the (migrated, empty) database; VACUUM ANALYZE."""
    began = time.perf_counter()
    items, demands, receipts = catalogue(n, seed_value)
    rng = random.Random(seed_value + 1)
    price = {item.id: Decimal(rng.randint(5, 500)) for item in items}
    finished_set = {demand.item_id for demand in demands}
    finished = sorted(finished_set)
    customers = max(100, n // 20)
    figures = Seeded(items=len(items), receipts=len(receipts))
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("INSERT INTO warehouses (id, code, name, is_default) VALUES "
                               f"({MAIN}, 'MAIN', 'Main', true), ({EAST}, 'EAST', 'East', false)")
            await _copy(conn, "suppliers", ("id", "code", "name"),
                        [(s, f"S{s:03d}", f"Supplier {s}") for s in range(1, SUPPLIERS + 1)])
            await _copy(conn, "items", (
                "id", "sku", "name", "uom", "kind", "procurement", "lead_time_days", "safety_stock", "scrap_rate",
                "lot_sizing", "fixed_lot_size", "min_order_quantity", "lot_multiple", "list_price",
                "standard_cost", "default_supplier_id"), _item_rows(items, finished_set, price))
            with_bom = [item for item in items if item.has_bom]
            await _copy(conn, "boms", ("item_id", "output_quantity"),
                        [(item.id, item.bom_output_quantity) for item in with_bom])
            bom_lines = [(item.id, line.component_id, position, line.quantity, line.scrap_rate)
                         for item in with_bom for position, line in enumerate(item.bom)]
            figures.bom_lines = len(bom_lines)
            await _copy(conn, "bom_lines", ("bom_item_id", "component_id", "position", "quantity", "scrap_rate"),
                        bom_lines)
            await _copy(conn, "customers", ("id", "code", "name", "credit_limit"),
                        [(c, f"C{c:06d}", f"Customer {c}", Decimal(100_000)) for c in range(1, customers + 1)])

            sales = _Sales(customers, price)
            figures.sales_lines, history = _sales(demands, finished, sales, rng)
            await _copy(conn, "sales_orders", (
                "id", "number", "customer_id", "status", "requested_date", "promised_date", "subtotal", "tax_total",
                "total"), sales.orders)
            await _copy(conn, "sales_order_lines", (
                "id", "order_id", "position", "item_id", "quantity", "shipped_quantity", "unit_price", "tax_rate",
                "line_total", "tax_amount", "promised_date"), sales.lines)
            balances, moves = _stock(items, sales.reservations)
            await _copy(conn, "stock_balances", ("item_id", "warehouse_id", "on_hand", "reserved"), balances)
            await _copy(conn, "stock_moves", (
                "item_id", "warehouse_id", "kind", "quantity_on_hand", "quantity_reserved", "reason",
                "reference_type", "reference_id"), moves)

            opportunities, opportunity_lines, figures.forecast_lines = _opportunities(
                demands, finished, customers, price, rng)
            await _copy(conn, "opportunities", (
                "id", "customer_id", "name", "stage", "probability", "amount", "expected_close_date"), opportunities)
            await _copy(conn, "opportunity_lines", ("opportunity_id", "position", "item_id", "quantity", "unit_price"),
                        opportunity_lines)

            bought = [item.id for item in items if item.procurement == "BUY"]
            purchase_orders, purchase_lines, open_purchase_lines = _purchases(receipts, bought, price, rng)
            await _copy(conn, "purchase_orders", ("id", "number", "supplier_id", "status"), purchase_orders)
            await _copy(conn, "purchase_order_lines", (
                "order_id", "position", "item_id", "quantity", "received_quantity", "unit_cost", "due_date"),
                purchase_lines)
            figures.skipped_rows = (history + len(moves) + len(opportunity_lines) - figures.forecast_lines
                                    + len(purchase_lines) - open_purchase_lines)

            for table in ("warehouses", "suppliers", "items", "customers", "sales_orders", "sales_order_lines",
                          "opportunities", "purchase_orders"):
                await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    figures.seconds = time.perf_counter() - began
    return figures
