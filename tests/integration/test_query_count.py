"""The SQL statement count of the big reads must not grow with the number of rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import delete, insert

from domain.crm.models import CreditLimitChange, Customer
from domain.finance.models import CreditNote, Invoice, Payment
from domain.inventory.models import Bom, BomLine, Item, StockBalance, Warehouse
from domain.sales.models import SalesOrder, SalesOrderLine, Shipment, ShipmentLine

ITEMS = """
query($first: Int!) {
  items(first: $first, kind: FINISHED, active: true) {
    totalCount
    edges { node {
      sku onHand available standardCost active version
      bom { outputQuantity version lines { quantity component { sku onHand whereUsed { sku } } } }
      stock { onHand reserved available warehouse { code isDefault version } }
      bomCost { unitCost lines { quantity unitCost extendedCost component { sku } } }
      rolledUpCost { unitCost computedAt }
    } }
  }
}"""


async def seed(sessionmaker, finished: int) -> None:
    async with sessionmaker.begin() as s:
        warehouses = [
            (await s.execute(insert(Warehouse).values(code=c, name=c).returning(Warehouse.id))).scalar_one()
            for c in ("MAIN", "EAST")
        ]
        raw = (await s.execute(insert(Item).returning(Item.id), [
            {"sku": f"RAW-{i}", "name": f"raw {i}", "kind": "RAW_MATERIAL", "procurement": "BUY"}
            for i in range(6)
        ])).scalars().all()
        parents = (await s.execute(insert(Item).returning(Item.id), [
            {"sku": f"FG-{i}", "name": f"fg {i}", "kind": "FINISHED", "procurement": "MAKE",
             "standard_cost": Decimal("10")}
            for i in range(finished)
        ])).scalars().all()
        await s.execute(insert(Bom), [{"item_id": p} for p in parents])
        await s.execute(insert(BomLine), [
            {"bom_item_id": p, "component_id": raw[(n + k) % 6], "position": k, "quantity": Decimal(k + 1)}
            for n, p in enumerate(parents) for k in range(3)
        ])
        await s.execute(insert(StockBalance), [
            {"item_id": i, "warehouse_id": w, "on_hand": Decimal(5)}
            for i in [*raw, *parents] for w in warehouses
        ])


async def statements_for(gql, sql_counter, first: int) -> int:
    with sql_counter.measure() as counted:
        body = await gql(ITEMS, {"first": first})
    edges = body["data"]["items"]["edges"]
    assert len(edges) == first
    assert all(len(e["node"]["bom"]["lines"]) == 3 and len(e["node"]["stock"]) == 2 for e in edges)
    assert all(len(e["node"]["bomCost"]["lines"]) == 3 and e["node"]["rolledUpCost"] is None for e in edges)
    return counted.count


async def test_items_with_boms_and_stock_constant_statements(gql, sessionmaker, sql_counter) -> None:
    await seed(sessionmaker, 50)
    await gql("{ viewer { name } }")  # authenticate once so the token cache is warm
    five = await statements_for(gql, sql_counter, 5)
    fifty = await statements_for(gql, sql_counter, 50)
    assert five == fifty, (five, fifty)
    # page, count, bom, lines, components, stock, warehouses, where-used, BOM cost trees, roll-ups
    assert fifty <= 14


FINANCE_LISTS = """
query($first: Int!) {
  shipments(first: $first) { totalCount edges { node {
    number salesOrder { number margin { revenue cost marginPercent } customer { code } }
    lines { quantity item { sku } } } } }
  payments(first: $first) { totalCount edges { node { amount customer { code } } } }
  invoices(first: $first) { totalCount edges { node {
    number balance creditedAmount creditNotes { number amount customer { code } invoice { number } } } } }
  customers(first: $first) { edges { node {
    code creditNotes(first: 2) { totalCount edges { node { number invoice { number } } } }
    creditLimitHistory { newLimit changedBy } profitability { orders revenue } } } }
}"""


async def seed_documents(sessionmaker, count: int) -> None:
    """``count`` customers, each with an order shipped once, an invoice, a payment and two credit notes."""
    async with sessionmaker.begin() as s:
        item = (await s.execute(insert(Item).values(sku="S", name="s", kind="FINISHED", procurement="BUY")
                                .returning(Item.id))).scalar_one()
        customers = (await s.execute(insert(Customer).returning(Customer.id), [
            {"code": f"C{i:03d}", "name": f"c {i}"} for i in range(count)])).scalars().all()
        orders = (await s.execute(insert(SalesOrder).returning(SalesOrder.id), [
            {"number": f"SO-{i:03d}", "customer_id": c, "status": "SHIPPED"} for i, c in enumerate(customers)
        ])).scalars().all()
        lines = (await s.execute(insert(SalesOrderLine).returning(SalesOrderLine.id), [
            {"order_id": o, "position": 0, "item_id": item, "quantity": Decimal(1), "unit_price": Decimal(10),
             "line_total": Decimal(10), "tax_amount": Decimal(0), "shipped_quantity": Decimal(1)}
            for o in orders
        ])).scalars().all()
        shipments = (await s.execute(insert(Shipment).returning(Shipment.id), [
            {"number": f"SH-{i:03d}", "order_id": o} for i, o in enumerate(orders)])).scalars().all()
        await s.execute(insert(ShipmentLine), [
            {"shipment_id": sh, "order_line_id": line, "item_id": item, "quantity": Decimal(1)}
            for sh, line in zip(shipments, lines, strict=True)
        ])
        invoices = (await s.execute(insert(Invoice).returning(Invoice.id), [
            {"number": f"INV-{i:03d}", "customer_id": c, "order_id": o, "issue_date": date.today(),
             "due_date": date.today(), "total": Decimal(10), "credited_amount": Decimal(3)}
            for i, (c, o) in enumerate(zip(customers, orders, strict=True))
        ])).scalars().all()
        await s.execute(insert(Payment), [
            {"customer_id": c, "amount": Decimal(1), "received_on": date.today()} for c in customers])
        await s.execute(insert(CreditLimitChange), [
            {"customer_id": c, "new_limit": Decimal(k + 1), "changed_by": "t"} for c in customers for k in range(2)])
        await s.execute(insert(CreditNote), [
            {"number": f"CN-{i:03d}-{k}", "invoice_id": inv, "customer_id": c, "amount": Decimal(k + 1),
             "reason": "r"}
            for i, (c, inv) in enumerate(zip(customers, invoices, strict=True)) for k in range(2)
        ])


async def test_shipments_payments_and_credit_notes_constant_statements(gql, sessionmaker, sql_counter) -> None:
    await seed_documents(sessionmaker, 50)
    await gql("{ viewer { name } }")

    async def statements(first: int) -> int:
        with sql_counter.measure() as counted:
            data = (await gql(FINANCE_LISTS, {"first": first}))["data"]
        assert len(data["shipments"]["edges"]) == len(data["payments"]["edges"]) == first
        assert data["shipments"]["totalCount"] == data["payments"]["totalCount"] == 50
        assert all(len(e["node"]["creditNotes"]) == 2 and e["node"]["balance"] == "7.00"
                   for e in data["invoices"]["edges"])
        assert all(e["node"]["creditNotes"]["totalCount"] == 2 for e in data["customers"]["edges"])
        assert all(e["node"]["salesOrder"]["margin"] == {"revenue": "10.00", "cost": "0.00", "marginPercent": "100.00"}
                   for e in data["shipments"]["edges"])
        assert all(e["node"]["profitability"] == {"orders": 1, "revenue": "10.00"} for e in data["customers"]["edges"])
        assert all([h["newLimit"] for h in e["node"]["creditLimitHistory"]] == ["2.00", "1.00"]
                   for e in data["customers"]["edges"])
        return counted.count

    five, fifty = await statements(5), await statements(50)
    assert five == fifty, (five, fifty)


# ---------------------------------------------------------------- quotes and follow-ups

QUOTES = """
{ quotes(first: 100) { totalCount edges { node {
    number status customer { code } opportunity { name } salesOrder { number }
    lines { quantity item { sku } }
} } } }"""

ACTIVITIES = """
{ activities(first: 100) { totalCount edges { node {
    subject done opportunity { name customer { code } }
} } } }"""


async def _quotes_and_follow_ups(sessionmaker, n: int) -> None:
    """``n`` customers, each with an opportunity, a quote of two lines and two activities."""
    from domain.crm.models import Activity, Customer, Opportunity
    from domain.sales.models import Quote, QuoteLine

    async with sessionmaker.begin() as s:
        for table in (Activity, QuoteLine, Quote, Opportunity, Customer, Item):
            await s.execute(delete(table))
        item = (await s.execute(insert(Item).values(
            sku="QC", name="qc", kind="FINISHED", procurement="BUY").returning(Item.id))).scalar_one()
        for i in range(n):
            customer = (await s.execute(insert(Customer).values(
                code=f"QC{i}", name=f"qc {i}").returning(Customer.id))).scalar_one()
            opportunity = (await s.execute(insert(Opportunity).values(
                customer_id=customer, name=f"deal {i}").returning(Opportunity.id))).scalar_one()
            quote = (await s.execute(insert(Quote).values(
                number=f"QT-QC{i}", customer_id=customer, opportunity_id=opportunity
            ).returning(Quote.id))).scalar_one()
            await s.execute(insert(QuoteLine), [
                {"quote_id": quote, "position": k, "item_id": item, "quantity": Decimal(1),
                 "unit_price": Decimal(1), "line_total": Decimal(1), "tax_amount": Decimal(0)}
                for k in range(2)
            ])
            await s.execute(insert(Activity), [
                {"opportunity_id": opportunity, "kind": "CALL", "subject": f"call {i}.{k}"} for k in range(2)
            ])


async def test_quotes_and_follow_ups_constant_statements(gql, sessionmaker, sql_counter) -> None:
    await gql("{ viewer { name } }")  # authenticate once so the token cache is warm
    counts = []
    for n in (2, 20):
        await _quotes_and_follow_ups(sessionmaker, n)
        with sql_counter.measure() as counted:
            quotes = await gql(QUOTES)
            activities = await gql(ACTIVITIES)
        assert quotes["data"]["quotes"]["totalCount"] == n
        assert activities["data"]["activities"]["totalCount"] == 2 * n
        counts.append(counted.count)
    assert counts[0] == counts[1], counts
    # quotes: page, count, customers, opportunities, orders, lines, items; follow-ups: page, count,
    # opportunities, customers
    assert counts[1] <= 11, counts


PURCHASE_ORDERS = """
query($first: Int!) {
  purchaseOrders(first: $first, status: [OPEN]) {
    totalCount
    edges { node {
      number status supplier { code contacts { name } }
      lines { quantity item { sku defaultSupplier { code } } }
    } }
  }
  suppliers(first: $first) { totalCount edges { node { code contacts { name } externalRefs { system } } } }
}"""


async def seed_purchases(sessionmaker, orders: int) -> None:
    from datetime import date

    from domain.crm.models import Contact
    from domain.purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier

    async with sessionmaker.begin() as s:
        suppliers = (await s.execute(insert(Supplier).returning(Supplier.id), [
            {"code": f"S{i}", "name": f"supplier {i}"} for i in range(orders + 1)
        ])).scalars().all()
        await s.execute(insert(Contact), [{"supplier_id": sid, "name": f"contact {sid}"} for sid in suppliers])
        items = (await s.execute(insert(Item).returning(Item.id), [
            {"sku": f"RAW-{i}", "name": f"raw {i}", "kind": "RAW_MATERIAL", "procurement": "BUY",
             "default_supplier_id": suppliers[orders]}  # a supplier of no order: loaded apart
            for i in range(6)
        ])).scalars().all()
        order_ids = (await s.execute(insert(PurchaseOrder).returning(PurchaseOrder.id), [
            {"number": f"PO-{i:04d}", "supplier_id": suppliers[i], "status": "OPEN"} for i in range(orders)
        ])).scalars().all()
        await s.execute(insert(PurchaseOrderLine), [
            {"order_id": oid, "position": k, "item_id": items[(n + k) % 6], "quantity": Decimal(k + 1),
             "due_date": date(2030, 1, 1)}
            for n, oid in enumerate(order_ids) for k in range(3)
        ])


async def test_purchase_orders_and_suppliers_constant_statements(gql, sessionmaker, sql_counter) -> None:
    await seed_purchases(sessionmaker, 40)
    await gql("{ viewer { name } }")

    async def statements(first: int) -> int:
        with sql_counter.measure() as counted:
            body = await gql(PURCHASE_ORDERS, {"first": first})
        edges = body["data"]["purchaseOrders"]["edges"]
        assert len(edges) == first and all(len(e["node"]["lines"]) == 3 for e in edges)
        assert all(e["node"]["supplier"]["contacts"] for e in edges)
        assert len(body["data"]["suppliers"]["edges"]) == first
        return counted.count

    five, forty = await statements(5), await statements(40)
    assert five == forty, (five, forty)
    # orders page, count, suppliers, contacts, lines, items, default suppliers; suppliers page, count, refs
    assert forty <= 12


WORK_ORDERS = """
query($first: Int!) {
  workOrders(first: $first) { totalCount edges { node {
    number status item { sku } components { requiredQuantity item { sku } }
    cost { materialCost overheadCost totalCost unitCost variance revaluedAmount allocationBasis periodStart }
  } } }
}"""


async def seed_work_orders(sessionmaker, count: int) -> None:
    """``count`` completed work orders of one item, each with a component and a cost."""
    from domain.costing.models import CostingRun, WorkOrderCost
    from domain.jobs.models import Job
    from domain.production.models import WorkOrder, WorkOrderComponent

    async with sessionmaker.begin() as s:
        made, part = (await s.execute(insert(Item).returning(Item.id), [
            {"sku": sku, "name": sku, "kind": kind, "procurement": "MAKE"}
            for sku, kind in (("MADE", "FINISHED"), ("PART", "RAW_MATERIAL"))
        ])).scalars().all()
        orders = (await s.execute(insert(WorkOrder).returning(WorkOrder.id), [
            {"number": f"WO-{i:03d}", "item_id": made, "quantity": Decimal(2), "completed_quantity": Decimal(2),
             "status": "COMPLETED", "due_date": date.today(), "completed_on": date.today()}
            for i in range(count)
        ])).scalars().all()
        await s.execute(insert(WorkOrderComponent), [
            {"work_order_id": o, "position": 0, "item_id": part, "required_quantity": Decimal(1)} for o in orders])
        job = (await s.execute(insert(Job).values(kind="COSTING", status="SUCCEEDED").returning(Job.id))).scalar_one()
        run = (await s.execute(insert(CostingRun).values(
            job_id=job, period_start=date.today(), period_end=date.today(), overhead_amount=Decimal(count),
            allocation_basis="OUTPUT_QUANTITY").returning(CostingRun.id))).scalar_one()
        await s.execute(insert(WorkOrderCost), [
            {"work_order_id": o, "costing_run_id": run, "weight": Decimal(2), "material_cost": Decimal(3),
             "overhead_cost": Decimal(1), "total_cost": Decimal(4), "unit_cost": Decimal(2)}
            for o in orders
        ])


async def test_work_orders_with_cost_constant_statements(gql, sessionmaker, sql_counter) -> None:
    await seed_work_orders(sessionmaker, 30)
    await gql("{ viewer { name } }")
    counts = []
    for first in (3, 30):
        with sql_counter.measure() as counted:
            body = await gql(WORK_ORDERS, {"first": first})
        edges = body["data"]["workOrders"]["edges"]
        assert len(edges) == first and all(e["node"]["cost"]["totalCost"] == "4.00" for e in edges), body
        counts.append(counted.count)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 8  # page, count, items, components, component items, costs
