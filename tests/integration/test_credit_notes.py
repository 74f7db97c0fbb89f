"""Credit notes: partial and full credits, VOID vs PAID, receivables and exposure drop,
refusals change nothing, a parallel payment and credit never take the balance below zero."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from api.relay import from_global_id
from domain.finance.models import CreditNote, Invoice
from domain.sales.models import SalesOrder
from domain.shared.events import DomainEvent
from tests.integration.helpers import snapshot_table
from tests.integration.order_builders import Line, confirmed_order, customer, gid
from tests.integration.test_receivables import invoice, pay, ship, shipped_order, stocked

D = Decimal
TODAY = date.today()
CREDIT = """mutation($input: CreditNoteInput!) { issueCreditNote(input: $input) {
  creditNote { id number amount reason createdBy createdAt invoice { number } customer { code } }
  invoice { id number total paidAmount creditedAmount balance status daysOverdue
            creditNotes { number amount } }
  errors { code field message } } }"""
ORDER_STATUS = "query($id: ID!) { salesOrder(id: $id) { status statusHistory { status reason } } }"
POSITION = """query($id: ID!) { customer(id: $id) {
  credit { openReceivables openOrders exposure available overdueAmount maxDaysOverdue }
  creditNotes(first: 10) { totalCount edges { node { number amount reason invoice { number } } } } } }"""
TABLES = ("invoices", "credit_notes", "payments", "payment_allocations", "sales_orders")


async def credit(gql, invoice_id: str, amount: str, reason: str = "damaged in transit", **kw):
    body = await gql(CREDIT, {"input": {"invoiceId": invoice_id, "amount": amount, "reason": reason}}, **kw)
    return body["data"]["issueCreditNote"]


async def order_status(gql, order_id: str) -> str:
    return str((await gql(ORDER_STATUS, {"id": order_id}))["data"]["salesOrder"]["status"])


async def test_partial_then_full_credit_voids_the_invoice_and_closes_the_order(
    gql, sessionmaker, admin_token_name
) -> None:
    await stocked(sessionmaker)
    cust = await customer(sessionmaker, limit="1000")
    order = await shipped_order(gql, sessionmaker, cust, "SO-CN1", amount="250")
    inv = (await invoice(gql, order.gid))["invoice"]

    first = await credit(gql, inv["id"], "50", reason="  two units damaged ")
    assert first["errors"] == []
    note = first["creditNote"]
    assert note | {"id": None, "createdAt": None} == {
        "id": None, "createdAt": None, "number": "CN-000001", "amount": "50.00",
        "reason": "two units damaged", "createdBy": admin_token_name,
        "invoice": {"number": inv["number"]}, "customer": {"code": "ACME"},
    }
    assert from_global_id(note["id"])[0] == "CreditNote"  # type: ignore[index]
    assert first["invoice"] | {"id": None, "number": None} == {
        "id": None, "number": None, "total": "250.00", "paidAmount": "0.00", "creditedAmount": "50.00",
        "balance": "200.00", "status": "OPEN", "daysOverdue": 0,
        "creditNotes": [{"number": "CN-000001", "amount": "50.00"}],
    }
    position = (await gql(POSITION, {"id": gid("Customer", cust)}))["data"]["customer"]
    assert position["credit"] | {"openOrders": None, "overdueAmount": None, "maxDaysOverdue": None} == {
        "openReceivables": "200.00", "openOrders": None, "exposure": "200.00", "available": "800.00",
        "overdueAmount": None, "maxDaysOverdue": None,
    }
    assert await order_status(gql, order.gid) == "SHIPPED"

    rest = await credit(gql, inv["id"], "200.00", reason="goodwill")
    assert rest["errors"] == []
    assert (rest["creditNote"]["number"], rest["invoice"]["status"], rest["invoice"]["balance"]) == (
        "CN-000002", "VOID", "0.00")
    assert rest["invoice"]["creditedAmount"] == "250.00"
    history = (await gql(ORDER_STATUS, {"id": order.gid}))["data"]["salesOrder"]
    assert history["status"] == "CLOSED"
    assert history["statusHistory"][-1] == {
        "status": "CLOSED", "reason": "shipped, invoiced and settled (paid or credited)"}

    position = (await gql(POSITION, {"id": gid("Customer", cust)}))["data"]["customer"]
    assert position["credit"]["openReceivables"] == "0.00" and position["credit"]["available"] == "1000.00"
    assert position["creditNotes"]["totalCount"] == 2
    assert [(e["node"]["number"], e["node"]["amount"], e["node"]["reason"], e["node"]["invoice"]["number"])
            for e in position["creditNotes"]["edges"]] == [
        ("CN-000001", "50.00", "two units damaged", inv["number"]),
        ("CN-000002", "200.00", "goodwill", inv["number"]),
    ]
    async with sessionmaker() as s:
        events = (await s.execute(
            select(DomainEvent.payload).where(DomainEvent.type == "invoice.credited").order_by(DomainEvent.id)
        )).scalars().all()
    assert [(e["amount"], e["balance"], e["status"]) for e in events] == [
        ("50.00", "200.00", "OPEN"), ("200.00", "0.00", "VOID")]
    node = await gql("query($id: ID!) { node(id: $id) { ... on CreditNote { number amount } } }",
                     {"id": note["id"]})
    assert node["data"]["node"] == {"number": "CN-000001", "amount": "50.00"}

    # a VOID invoice takes neither more credit nor a payment; nothing changes
    before = await snapshot_table(sessionmaker, *TABLES)
    again = await credit(gql, inv["id"], "1")
    assert again["creditNote"] is None
    assert (again["errors"][0]["code"], again["errors"][0]["field"]) == ("INVALID_STATE", ["invoiceId"])
    paid = await pay(gql, cust, "1", inv["id"])
    assert (paid["errors"][0]["code"], paid["errors"][0]["field"]) == ("INVALID_STATE", ["invoiceId"])
    assert await snapshot_table(sessionmaker, *TABLES) == before


async def test_partly_paid_and_the_rest_credited_reads_paid(gql, sessionmaker) -> None:
    await stocked(sessionmaker)
    cust = await customer(sessionmaker)
    order = await shipped_order(gql, sessionmaker, cust, "SO-CN2", amount="100")
    inv = (await invoice(gql, order.gid))["invoice"]
    assert (await pay(gql, cust, "60", inv["id"]))["invoices"][0]["status"] == "PARTIALLY_PAID"

    over = await credit(gql, inv["id"], "40.01")
    assert (over["errors"][0]["code"], over["errors"][0]["field"]) == ("INVALID", ["amount"])
    assert "40.00" in over["errors"][0]["message"]
    done = await credit(gql, inv["id"], "40")
    assert done["errors"] == []
    assert (done["invoice"]["status"], done["invoice"]["paidAmount"], done["invoice"]["balance"]) == (
        "PAID", "60.00", "0.00")
    history = (await gql(ORDER_STATUS, {"id": order.gid}))["data"]["salesOrder"]
    assert history["status"] == "CLOSED"
    assert history["statusHistory"][-1]["reason"] == "shipped, invoiced and settled (paid or credited)"
    refused = await credit(gql, inv["id"], "1")
    assert refused["errors"][0]["code"] == "INVALID_STATE"  # PAID takes no more credit


async def test_payments_see_the_credited_balance(gql, sessionmaker) -> None:
    await stocked(sessionmaker)
    cust = await customer(sessionmaker)
    order = await shipped_order(gql, sessionmaker, cust, "SO-CN3", amount="100")
    inv = (await invoice(gql, order.gid))["invoice"]
    assert (await credit(gql, inv["id"], "30"))["errors"] == []
    over = await pay(gql, cust, "70.01")  # oldest-first allocation: only 70 is owed
    assert (over["errors"][0]["code"], over["errors"][0]["field"]) == ("INVALID", ["amount"])
    assert "70.00" in over["errors"][0]["message"]
    over_named = await pay(gql, cust, "70.01", inv["id"])
    assert over_named["errors"][0]["code"] == "INVALID"
    paid = await pay(gql, cust, "70")
    assert paid["errors"] == []
    assert paid["invoices"] == [{"id": inv["id"], "number": inv["number"], "paidAmount": "70.00",
                                 "balance": "0.00", "status": "PAID"}]
    assert await order_status(gql, order.gid) == "CLOSED"
    history = (await gql(ORDER_STATUS, {"id": order.gid}))["data"]["salesOrder"]["statusHistory"]
    assert history[-1]["reason"] == "shipped, invoiced and settled (paid or credited)"


async def test_credit_lowers_overdue_amount_and_exposure_for_the_credit_check(gql, sessionmaker) -> None:
    _, a, _ = await stocked(sessionmaker)
    cust = await customer(sessionmaker, limit="300")
    order = await shipped_order(gql, sessionmaker, cust, "SO-CN4", amount="200")
    inv = (await invoice(gql, order.gid))["invoice"]
    async with sessionmaker.begin() as s:
        await s.execute(update(Invoice).where(Invoice.number == inv["number"])
                        .values(due_date=TODAY - timedelta(days=5)))
    # an order of 150 would take exposure to 350 > 300
    pending = await confirmed_order(sessionmaker, cust, [Line(a, "1", "150")], "SO-CN5", status="DRAFT")
    confirm = """mutation($id: ID!) { confirmSalesOrder(id: $id) { order { status } errors { code } } }"""

    await credit(gql, inv["id"], "60")
    view = (await gql(POSITION, {"id": gid("Customer", cust)}))["data"]["customer"]["credit"]
    assert view == {"openReceivables": "140.00", "openOrders": "0.00", "exposure": "140.00",
                    "available": "160.00", "overdueAmount": "140.00", "maxDaysOverdue": 5}
    invoices = await gql("""query($id: ID!) { customer(id: $id) { invoices(first: 5) {
        edges { node { balance daysOverdue creditedAmount } } } } }""", {"id": gid("Customer", cust)})
    assert invoices["data"]["customer"]["invoices"]["edges"] == [
        {"node": {"balance": "140.00", "daysOverdue": 5, "creditedAmount": "60.00"}}]
    overdue = await gql("{ invoices(overdueOnly: true) { totalCount } }")
    assert overdue["data"]["invoices"]["totalCount"] == 1

    # credited in full, the invoice is VOID: nothing overdue, and the order fits under the limit
    await credit(gql, inv["id"], "140")
    view = (await gql(POSITION, {"id": gid("Customer", cust)}))["data"]["customer"]["credit"]
    assert view == {"openReceivables": "0.00", "openOrders": "0.00", "exposure": "0.00",
                    "available": "300.00", "overdueAmount": "0.00", "maxDaysOverdue": 0}
    overdue = await gql("{ invoices(overdueOnly: true) { totalCount } }")
    assert overdue["data"]["invoices"]["totalCount"] == 0
    void = await gql("{ invoices(status: [VOID]) { edges { node { daysOverdue balance } } } }")
    assert void["data"]["invoices"]["edges"] == [{"node": {"daysOverdue": 0, "balance": "0.00"}}]
    confirmed = (await gql(confirm, {"id": pending.gid}))["data"]["confirmSalesOrder"]
    assert confirmed == {"order": {"status": "CONFIRMED"}, "errors": []}


async def test_voided_invoice_of_a_partly_shipped_order_keeps_it_open(gql, sessionmaker) -> None:
    main, a, _ = await stocked(sessionmaker)
    cust = await customer(sessionmaker)
    order = await confirmed_order(sessionmaker, cust, [Line(a, "2", "10", reserve=((main, "2"),))], "SO-CN6")
    await ship(gql, order.gid, [{"lineId": order.line_gid(0), "quantity": "1"}])
    first = (await invoice(gql, order.gid))["invoice"]
    assert (await credit(gql, first["id"], "10"))["invoice"]["status"] == "VOID"
    assert await order_status(gql, order.gid) == "PARTIALLY_SHIPPED"
    await ship(gql, order.gid)
    second = (await invoice(gql, order.gid))["invoice"]
    assert await order_status(gql, order.gid) == "SHIPPED"
    await pay(gql, cust, "10", second["id"])
    assert await order_status(gql, order.gid) == "CLOSED"


async def test_refused_credit_notes_change_nothing(gql, sessionmaker, make_token) -> None:
    await stocked(sessionmaker)
    cust = await customer(sessionmaker)
    order = await shipped_order(gql, sessionmaker, cust, "SO-CN7", amount="100")
    inv = (await invoice(gql, order.gid))["invoice"]
    unknown = gid("Invoice", 999_999)
    sales = await make_token("sales")
    before = await snapshot_table(sessionmaker, *TABLES)
    for invoice_id, amount, reason, expected in (
        (inv["id"], "0", "r", [("INVALID", ["amount"])]),
        (inv["id"], "-5", "r", [("INVALID", ["amount"])]),
        (inv["id"], "1.001", "r", [("INVALID", ["amount"])]),
        (inv["id"], "100.01", "r", [("INVALID", ["amount"])]),
        (inv["id"], "10", "   ", [("INVALID", ["reason"])]),
        (inv["id"], "0", "", [("INVALID", ["amount"]), ("INVALID", ["reason"])]),
        (inv["id"], "10", "x" * 501, [("INVALID", ["reason"])]),
        ("garbage", "10", "r", [("INVALID", ["invoiceId"])]),
        (order.gid, "10", "r", [("NOT_FOUND", ["invoiceId"])]),
        (unknown, "10", "r", [("NOT_FOUND", ["invoiceId"])]),
    ):
        result = await credit(gql, invoice_id, amount, reason)
        assert result["creditNote"] is None and result["invoice"] is None
        assert [(e["code"], e["field"]) for e in result["errors"]] == expected, (invoice_id, amount, reason)
    forbidden = await credit(gql, inv["id"], "10", token=sales)
    assert forbidden["errors"][0]["code"] == "FORBIDDEN" and "finance:write" in forbidden["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, *TABLES) == before
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(CreditNote)) == 0


async def test_parallel_payments_and_credits_never_take_the_balance_below_zero(gql, sessionmaker) -> None:
    await stocked(sessionmaker)
    cust = await customer(sessionmaker)
    order = await shipped_order(gql, sessionmaker, cust, "SO-CN8", amount="100")
    inv = (await invoice(gql, order.gid))["invoice"]
    results = await asyncio.gather(*(
        credit(gql, inv["id"], "60") if i % 2 else pay(gql, cust, "60", inv["id"]) for i in range(6)
    ))
    ok = [r for r in results if r["errors"] == []]
    assert len(ok) == 1
    # the losers saw the balance of 40 (INVALID) or, none here, a settled invoice
    assert {(r["errors"][0]["code"], tuple(r["errors"][0]["field"])) for r in results if r["errors"]} == {
        ("INVALID", ("amount",))}
    async with sessionmaker() as s:
        row = (await s.execute(select(Invoice.paid_amount, Invoice.credited_amount, Invoice.status))).one()
        assert row.paid_amount + row.credited_amount == D(60)
        assert row.status in ("OPEN", "PARTIALLY_PAID")
        order_status_now = await s.scalar(select(SalesOrder.status))
    assert order_status_now == "SHIPPED"
    # and in parallel, two credits of the whole balance: exactly one voids the invoice
    last = await asyncio.gather(*(credit(gql, inv["id"], "40") for _ in range(3)))
    assert sorted(r["errors"][0]["code"] if r["errors"] else "OK" for r in last) == [
        "INVALID_STATE", "INVALID_STATE", "OK"]
    async with sessionmaker() as s:
        row = (await s.execute(select(Invoice.paid_amount, Invoice.credited_amount, Invoice.status))).one()
    assert row.paid_amount + row.credited_amount == D(100)
