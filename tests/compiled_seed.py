"""The database the compiled-reads corpus runs on: the hand-written test's rows and more.

``tests.integration.test_compiled_reads._seed`` gives customers with awkward names and
decimals, items with and without standard cost, two BOMs and stock in two warehouses, one
or none, and the partner ``shop``'s refs on two customers. This adds what the corpus reads
besides: strings JSON escapes differently if anyone gets it wrong, a third BOM level, an
item that is raw material and one that is inactive, sales orders of every status with lines
of many decimals, and refs the partner fence must ignore (another system's, a writeback's).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from domain.crm.models import Customer
from domain.integration.models import ExternalRef
from domain.inventory.models import Bom, BomLine, Item, StockBalance, Warehouse
from domain.sales.models import OrderStatus, SalesOrder, SalesOrderLine
from tests.integration.test_compiled_reads import _seed

PARTNER = "shop"  # the system of the partner token; _seed gives it customers C-000 and C-002

# (number, customer code, status, requested, promised, currency, notes, credit hold reason,
#  lines: (sku, quantity, unit price, discount %, tax %, shipped, cancelled, promised))
ORDERS: list[tuple[Any, ...]] = [
    ("SO-101", "C-000", OrderStatus.CONFIRMED, date(2026, 3, 1), date(2026, 3, 15), "EUR", "Ship with „care“\n",
     None, [("SKU-0", "3", "19.99", "0", "19", "0", "0", date(2026, 3, 15)),
            ("RM-101", "0.000001", "1234.5678", "12.5", "7", "0", "0", None),
            ("SKU-2", "1250.5", "0.0001", "99.9999", "0", "0", "0", date(2026, 2, 28))]),
    ("SO-102", "C-000", OrderStatus.DRAFT, None, None, "EUR", None, None, []),
    ("SO-103", "C-002", OrderStatus.SHIPPED, date(2025, 12, 31), date(2026, 1, 2), "EUR", "",
     None, [("SKU-1", "2", "10", "0", "19", "2", "0", date(2026, 1, 2)),
            ("SKU-3", "7.5", "3.3333", "33.3333", "19", "7.5", "0", None)]),
    ("SO-104", "C-001", OrderStatus.PARTIALLY_SHIPPED, date(2026, 4, 30), None, "USD", 'a "quoted" \\ note',
     None, [("SKU-4", "10", "99999.9999", "5", "0", "4.25", "0", None),
            ("SF-201", "1", "0", "0", "0", "0", "0", None)]),
    ("SO-105", "C-001", OrderStatus.CANCELLED, None, None, "EUR", None,
     None, [("SKU-0", "5", "1.1", "0", "19", "0", "5", None)]),
    ("SO-106", "C-003", OrderStatus.CREDIT_HOLD, date(2026, 5, 1), None, "EUR", None,
     "over limit: 1.250,50 € > 0,00 €", [("SKU-1", "1", "1250.5", "0", "19", "0", "0", None)]),
    ("SO-107", "C-000", OrderStatus.CLOSED, date(2025, 1, 1), date(2025, 1, 1), "EUR", "Ünïcødé ✓ \t done",
     None, [("SKU-3", "100", "0.01", "0", "19", "100", "0", date(2025, 1, 1)),
            ("SKU-4", "0.5", "2", "50", "7", "0.25", "0.25", None),
            ("RM-101", "12.345678", "8.9", "0", "19", "12.345678", "0", None)]),
]


async def seed(sessionmaker: Any) -> None:
    await _seed(sessionmaker)
    async with sessionmaker.begin() as session:
        session.add_all([
            Customer(code="C-007", name="Back\\slash </script> \u2028\u2029 \x01\x1f\x7f ﷽", email=None,
                     phone="+49 (0) 30 1234-5", segment="Wholesale — ĒU",
                     tags=['a "quoted" tag', "tab\tin tag", "日本"], payment_terms_days=0,
                     credit_limit=Decimal("0.10")),
            Customer(code="C-008", name="  🚀 Rocket  ", email="rocket@example.com", phone=None, segment=None,
                     tags=["x"], payment_terms_days=90, credit_limit=Decimal("12345678.9")),
            Item(sku="RM-101", name="Brass sheet 0.5 mm", uom="kg", kind="RAW_MATERIAL", procurement="BUY",
                 lead_time_days=14, lot_sizing="MIN_MULTIPLE", min_order_quantity=Decimal("25"),
                 lot_multiple=Decimal("5"), list_price=Decimal("8.9"), standard_cost=Decimal("0.0001")),
            Item(sku="SF-201", name="Bell body, unpolished", kind="SEMI_FINISHED", procurement="MAKE",
                 scrap_rate=Decimal("0.125"), lot_sizing="FIXED_ORDER_QUANTITY", fixed_lot_size=Decimal("50"),
                 active=False),
        ])
        await session.flush()
        items = dict((await session.execute(select(Item.sku, Item.id))).all())
        customers = dict((await session.execute(select(Customer.code, Customer.id))).all())
        warehouses = (await session.execute(select(Warehouse.id).order_by(Warehouse.id))).scalars().all()
        session.add_all([StockBalance(item_id=items["RM-101"], warehouse_id=warehouse,
                                      on_hand=Decimal("123456789.123456"), reserved=Decimal(n))
                         for n, warehouse in enumerate(warehouses)])
        # a third level: SKU-0 uses SKU-1 uses SKU-3 uses SF-201 uses RM-101
        session.add_all([Bom(item_id=items["SKU-3"], output_quantity=Decimal("0.333333")),
                         Bom(item_id=items["SF-201"], output_quantity=Decimal("50"))])
        await session.flush()
        session.add_all([
            BomLine(bom_item_id=items["SKU-3"], component_id=items["SF-201"], position=0, quantity=Decimal("1.000001"),
                    scrap_rate=Decimal("0.999999")),
            BomLine(bom_item_id=items["SKU-3"], component_id=items["RM-101"], position=1, quantity=Decimal("0.5")),
            BomLine(bom_item_id=items["SF-201"], component_id=items["RM-101"], position=0, quantity=Decimal("2")),
        ])
        for number, code, status, requested, promised, currency, notes, hold, lines in ORDERS:
            order = SalesOrder(number=number, customer_id=customers[code], status=status, requested_date=requested,
                               promised_date=promised, currency=currency, notes=notes, credit_hold_reason=hold)
            session.add(order)
            await session.flush()
            subtotal = tax_total = Decimal(0)
            for position, (sku, quantity, price, discount, tax, shipped, cancelled, line_promised) in enumerate(lines):
                net = Decimal(quantity) * Decimal(price) * (1 - Decimal(discount) / 100)
                line_total = net.quantize(Decimal("0.01"))
                tax_amount = (line_total * Decimal(tax) / 100).quantize(Decimal("0.01"))
                subtotal, tax_total = subtotal + line_total, tax_total + tax_amount
                session.add(SalesOrderLine(
                    order_id=order.id, position=position, item_id=items[sku], quantity=Decimal(quantity),
                    unit_price=Decimal(price), discount_percent=Decimal(discount), tax_rate=Decimal(tax),
                    line_total=line_total, tax_amount=tax_amount, shipped_quantity=Decimal(shipped),
                    invoiced_quantity=Decimal(shipped), cancelled_quantity=Decimal(cancelled),
                    promised_date=line_promised,
                ))
            order.subtotal, order.tax_total, order.total = subtotal, tax_total, subtotal + tax_total
        first_order = (await session.execute(select(SalesOrder.id).where(SalesOrder.number == "SO-0001"))).scalar_one()
        session.add_all([
            # the fence reads only the partner's own keys: not another system's, not a writeback's
            ExternalRef(entity_type="Customer", entity_id=customers["C-001"], system="erp", external_id="E-1",
                        status="FAILED", attempts=3, last_error="timeout", writeback=True),
            ExternalRef(entity_type="Customer", entity_id=customers["C-004"], system=PARTNER, external_id=None,
                        status="PENDING", writeback=True),
            ExternalRef(entity_type="Customer", entity_id=customers["C-007"], system=PARTNER, external_id="S-7",
                        status="SYNCED"),
            ExternalRef(entity_type="SalesOrder", entity_id=first_order, system="erp", external_id="SO-E-1",
                        status="SYNCED", attempts=1, writeback=True),
        ])
