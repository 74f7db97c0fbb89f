"""A customer-360 read costs the same number of SQL statements for 5 and for 50 orders."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from domain.crm.models import Opportunity
from domain.finance.models import CreditNote, Invoice
from tests.integration import order_builders as build

CUSTOMER_360 = """
query($n: Int!) { customer(code: "C360") {
  code
  credit { limit openReceivables openOrders exposure available overdueAmount maxDaysOverdue }
  orders(first: $n) { totalCount edges { node {
    number status total promisedDate customer { code }
    lines { quantity reservedQuantity backorderedQuantity shippedQuantity item { sku onHand available } }
  } } }
  invoices(first: $n) { totalCount edges { node {
    number balance creditedAmount daysOverdue salesOrder { number } creditNotes { number amount } } } }
  creditNotes(first: $n) { totalCount edges { node { number amount invoice { number balance } } } }
  opportunities(first: 10) { edges { node { name stage weightedAmount customer { code } } } }
} }"""


async def add_orders(sm, customer_id: int, items: list[int], start: int, count: int) -> None:
    for n in range(start, start + count):
        order = await build.confirmed_order(sm, customer_id, [
            build.Line(items[0], "2", "10.00", "20", reserve=()),
            build.Line(items[1], "1", "5.50"),
        ], number=f"SO-T{n:04d}")
        async with sm.begin() as s:
            # credited 4.00 of 10.00: 6.00 is still owed
            invoice = Invoice(number=f"INV-T{n:04d}", customer_id=customer_id, order_id=order.id,
                              issue_date=date.today() - timedelta(days=40),
                              due_date=date.today() - timedelta(days=10),
                              total=Decimal("10.00"), credited_amount=Decimal("4.00"))
            s.add(invoice)
            await s.flush()
            s.add(CreditNote(number=f"CN-T{n:04d}", invoice_id=invoice.id, customer_id=customer_id,
                             amount=Decimal("4.00"), reason="damaged"))


async def statements(gql, sql_counter, n: int) -> int:
    with sql_counter.measure() as counted:
        body = await gql(CUSTOMER_360, {"n": n})
    customer = body["data"]["customer"]
    assert customer["orders"]["totalCount"] == n and len(customer["orders"]["edges"]) == n
    assert len(customer["invoices"]["edges"]) == n
    assert len(customer["opportunities"]["edges"]) == 3
    assert customer["credit"]["maxDaysOverdue"] == 10
    assert customer["credit"]["openReceivables"] == f"{6 * n}.00"
    assert customer["credit"]["overdueAmount"] == f"{6 * n}.00"
    assert all(e["node"]["balance"] == "6.00" and e["node"]["creditedAmount"] == "4.00"
               and e["node"]["creditNotes"] == [{"number": e["node"]["number"].replace("INV", "CN"),
                                                  "amount": "4.00"}]
               for e in customer["invoices"]["edges"])
    assert customer["creditNotes"]["totalCount"] == n and len(customer["creditNotes"]["edges"]) == n
    assert all(e["node"]["invoice"]["balance"] == "6.00" for e in customer["creditNotes"]["edges"])
    return counted.count


async def test_customer_360_statement_count_is_constant(gql, sessionmaker, sql_counter) -> None:
    wh = await build.warehouse(sessionmaker, "MAIN", default=True)
    items = [await build.item(sessionmaker, "A", {wh: "100"}), await build.item(sessionmaker, "B", {wh: "100"})]
    customer_id = await build.customer(sessionmaker, "C360", limit="100000")
    async with sessionmaker.begin() as s:
        s.add_all(Opportunity(customer_id=customer_id, name=f"Deal {i}", amount=Decimal(1000 * i))
                  for i in range(1, 4))
    await gql("{ viewer { name } }")  # warm the token cache
    await add_orders(sessionmaker, customer_id, items, 0, 5)
    five = await statements(gql, sql_counter, 5)
    await add_orders(sessionmaker, customer_id, items, 5, 45)
    fifty = await statements(gql, sql_counter, 50)
    assert five == fifty, (five, fifty)


CUSTOMER_LIST = """
query($n: Int!) { customers(first: $n) { edges { node {
  code
  orders(first: 3, status: [CONFIRMED]) { totalCount edges { node { number } } }
  quotes(first: 3) { totalCount }
  opportunities(first: 3) { totalCount edges { node { name } } }
  invoices(first: 3) { totalCount }
  creditNotes(first: 3) { totalCount }
} } } }"""


async def test_customer_list_with_connections_statement_count_is_constant(gql, sessionmaker, sql_counter) -> None:
    wh = await build.warehouse(sessionmaker, "MAIN", default=True)
    item = await build.item(sessionmaker, "A", {wh: "100"})
    for c in range(6):
        customer_id = await build.customer(sessionmaker, f"L{c}")
        for n in range(c + 1):  # customers differ in how many orders they have
            await build.confirmed_order(sessionmaker, customer_id, [build.Line(item, "1", "1.00")],
                                        number=f"SO-L{c}-{n}")
    await gql("{ viewer { name } }")

    async def statements(n: int) -> int:
        with sql_counter.measure() as counted:
            edges = (await gql(CUSTOMER_LIST, {"n": n}))["data"]["customers"]["edges"]
        assert [e["node"]["orders"]["totalCount"] for e in edges] == list(range(1, n + 1))
        assert [len(e["node"]["orders"]["edges"]) for e in edges] == [min(i, 3) for i in range(1, n + 1)]
        return counted.count

    assert await statements(2) == await statements(6)
