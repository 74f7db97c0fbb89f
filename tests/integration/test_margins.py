"""Order margins and customer profitability through the graph."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.integration.helpers import add_warehouse, create_item
from tests.integration.sales_helpers import confirm, create_customer, create_order, ledger_consistent
from tests.integration.test_credit_notes import credit
from tests.integration.test_receivables import invoice, ship
from tests.integration.test_valuation import adjust

MARGIN = "query($id: ID!) { salesOrder(id: $id) { margin { revenue cost margin marginPercent } } }"
PROFIT = """query($id: ID!, $from: Date, $to: Date) { customer(id: $id) {
  profitability(from: $from, to: $to) { from to orders revenue cost margin marginPercent } } }"""
LISTED = "{ salesOrders(first: 10) { edges { node { number margin { margin } } } } }"


async def order(gql: Any, customer: str, item: str, quantity: str, price: str, **line: Any) -> tuple[str, str]:
    payload = await create_order(gql, customer, [{"itemId": item, "quantity": quantity, "unitPrice": price} | line])
    assert payload["errors"] == [], payload
    confirmed = await confirm(gql, payload["order"]["id"])
    assert confirmed["errors"] == [], confirmed
    return str(payload["order"]["id"]), str(payload["order"]["lines"][0]["id"])


async def test_margin_after_partial_shipment_and_a_credit_note(gql: Any, sessionmaker: Any, make_token: Any) -> None:
    """Stock: 10 at 4.00 and 10 at 6.00, average 5. An order of 10 at 20.00 less 10 % (18.00
    a unit net), 20 % tax. Ship 6 (cost 6 × 5 = 30.00) and invoice them: 108.00 net,
    129.60 gross. 10 more arrive at 8.00: (14 × 5 + 80) / 24 = 6.25. Ship 2 more (cost 12.50),
    not invoiced: 36.00. Credit 12.96 gross = 10.80 net. Revenue 108 + 36 − 10.80 = 133.20,
    cost 42.50 (the first shipment keeps its 5.00 a unit), margin 90.70, 68.09 %.

    A second order, 1 at 10.00 shipped at 6.25: the customer's profitability adds both:
    revenue 143.20, cost 48.75, margin 94.45, 65.96 % (94.45 / 143.20 = 0.65957…)."""
    await add_warehouse(gql, "MAIN", default=True)
    item = await create_item(gql, "MGN-1")
    await adjust(gql, item, "10", "4.00")
    await adjust(gql, item, "10", "6.00")
    customer = await create_customer(gql, "MGN", credit_limit="10000")
    first, line = await order(gql, customer, item, "10", "20.00", discountPercent="10", taxRate="20")

    await ship(gql, first, [{"lineId": line, "quantity": "6"}])
    issued = await invoice(gql, first)
    assert issued["errors"] == [] and issued["invoice"]["total"] == "129.60", issued
    await adjust(gql, item, "10", "8.00")
    await ship(gql, first, [{"lineId": line, "quantity": "2"}])
    assert (await credit(gql, issued["invoice"]["id"], "12.96"))["errors"] == []

    body = await gql(MARGIN, {"id": first})
    assert body["data"]["salesOrder"]["margin"] == {
        "revenue": "133.20", "cost": "42.50", "margin": "90.70", "marginPercent": "68.09"}

    second, _ = await order(gql, customer, item, "1", "10.00")
    await ship(gql, second)
    body = await gql(PROFIT, {"id": customer})
    assert body["data"]["customer"]["profitability"] == {
        "from": None, "to": None, "orders": 2, "revenue": "143.20", "cost": "48.75", "margin": "94.45",
        "marginPercent": "65.96"}

    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    body = await gql(PROFIT, {"id": customer, "from": tomorrow})
    assert body["data"]["customer"]["profitability"] == {
        "from": tomorrow, "to": None, "orders": 0, "revenue": "0.00", "cost": "0.00", "margin": "0.00",
        "marginPercent": None}

    listed = (await gql(LISTED))["data"]["salesOrders"]["edges"]
    assert sorted(edge["node"]["margin"]["margin"] for edge in listed) == ["3.75", "90.70"]

    sales = await make_token("sales")
    assert (await gql(MARGIN, {"id": first}, token=sales))["data"]["salesOrder"]["margin"] is None
    await ledger_consistent(sessionmaker)


async def test_profitability_refuses_a_period_that_ends_before_it_starts(gql: Any) -> None:
    customer = await create_customer(gql, "MGN-2")
    body = await gql(PROFIT, {"id": customer, "from": "2026-02-01", "to": "2026-01-31"}, expect_errors=True)
    assert body["data"]["customer"]["profitability"] is None
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [("INVALID", ["to"])]
