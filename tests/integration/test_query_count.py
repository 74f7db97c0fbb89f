"""The SQL statement count of the big reads must not grow with the number of rows."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert

from domain.inventory.models import Bom, BomLine, Item, StockBalance, Warehouse

ITEMS = """
query($first: Int!) {
  items(first: $first, kind: FINISHED) {
    totalCount
    edges { node {
      sku onHand available standardCost
      bom { outputQuantity lines { quantity component { sku onHand whereUsed { sku } } } }
      stock { onHand reserved available warehouse { code } }
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
    return counted.count


async def test_items_with_boms_and_stock_constant_statements(gql, sessionmaker, sql_counter) -> None:
    await seed(sessionmaker, 50)
    await gql("{ viewer { name } }")  # authenticate once so the token cache is warm
    five = await statements_for(gql, sql_counter, 5)
    fifty = await statements_for(gql, sql_counter, 50)
    assert five == fifty, (five, fifty)
    assert fifty <= 12  # page, count, bom, lines, components, stock, warehouses, where-used


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
