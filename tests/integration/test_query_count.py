"""The SQL statement count of the big reads must not grow with the number of rows."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, insert

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
