"""Top-level ``shipments`` and ``payments``: keyset connections with totalCount, filters,
bad filter ids as NOT_FOUND/INVALID query errors, scopes."""

from __future__ import annotations

from api.context import Context
from domain.identity.scopes import ROLE_SCOPES, Scope
from domain.identity.services import Principal
from tests.integration.order_builders import Line, confirmed_order, customer, gid
from tests.integration.test_receivables import pay, seed_invoices, ship, stocked

SHIPMENTS = """query($first: Int, $after: String, $orderId: ID, $customerId: ID) {
  shipments(first: $first, after: $after, orderId: $orderId, customerId: $customerId) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { node { number salesOrder { number customer { code } } lines { quantity item { sku } } } } } }"""
PAYMENTS = """query($first: Int, $after: String, $customerId: ID) {
  payments(first: $first, after: $after, customerId: $customerId) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id amount reference customer { code } } } } }"""


async def shipped_orders(gql, sm):
    """ACME: SO-1 shipped in two shipments, SO-2 in one; OTHER: SO-3 in one."""
    main, a, b = await stocked(sm)
    acme, other = await customer(sm, "ACME"), await customer(sm, "OTHER")
    one = await confirmed_order(sm, acme, [Line(a, "3", "10", reserve=((main, "3"),))], "SO-1")
    two = await confirmed_order(sm, acme, [Line(b, "1", "10", reserve=((main, "1"),))], "SO-2")
    three = await confirmed_order(sm, other, [Line(a, "2", "10", reserve=((main, "2"),))], "SO-3")
    await ship(gql, one.gid, [{"lineId": one.line_gid(0), "quantity": "1"}])
    await ship(gql, two.gid)
    await ship(gql, three.gid)
    await ship(gql, one.gid)
    return acme, other, one, two, three


def summary(connection) -> list[tuple[str, str, str]]:
    return [(e["node"]["salesOrder"]["number"], e["node"]["lines"][0]["item"]["sku"],
             e["node"]["lines"][0]["quantity"]) for e in connection["edges"]]


async def test_shipments_list_filters_and_pages(gql, sessionmaker) -> None:
    acme, other, one, _, three = await shipped_orders(gql, sessionmaker)
    everything = (await gql(SHIPMENTS, {"first": 10}))["data"]["shipments"]
    assert everything["totalCount"] == 4
    # in the order they were made (keyset on id, like every list)
    assert summary(everything) == [("SO-1", "A", "1.00"), ("SO-2", "B", "1.00"), ("SO-3", "A", "2.00"),
                                   ("SO-1", "A", "2.00")]
    numbers = [e["node"]["number"] for e in everything["edges"]]
    assert numbers == sorted(numbers) and all(n.startswith("SH-") for n in numbers)

    by_order = (await gql(SHIPMENTS, {"orderId": one.gid}))["data"]["shipments"]
    assert (by_order["totalCount"], summary(by_order)) == (2, [("SO-1", "A", "1.00"), ("SO-1", "A", "2.00")])
    by_customer = (await gql(SHIPMENTS, {"customerId": gid("Customer", other)}))["data"]["shipments"]
    assert (by_customer["totalCount"], summary(by_customer)) == (1, [("SO-3", "A", "2.00")])
    acme_view = (await gql(SHIPMENTS, {"customerId": gid("Customer", acme)}))["data"]["shipments"]
    assert [e["node"]["salesOrder"]["customer"]["code"] for e in acme_view["edges"]] == ["ACME"] * 3
    both = (await gql(SHIPMENTS, {"orderId": three.gid, "customerId": gid("Customer", acme)}))["data"]
    assert both["shipments"]["totalCount"] == 0 and both["shipments"]["edges"] == []

    seen, after = [], None
    while True:
        page = (await gql(SHIPMENTS, {"first": 3, "after": after}))["data"]["shipments"]
        assert page["totalCount"] == 4 and page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == numbers


async def test_shipments_bad_filter_ids_are_query_errors(gql, sessionmaker) -> None:
    _, _, one, _, _ = await shipped_orders(gql, sessionmaker)
    for variables, expected in (
        ({"orderId": "garbage"}, ("INVALID", ["orderId"])),
        ({"orderId": gid("Customer", 1)}, ("NOT_FOUND", ["orderId"])),
        ({"orderId": gid("SalesOrder", 999_999)}, ("NOT_FOUND", ["orderId"])),
        ({"customerId": "garbage"}, ("INVALID", ["customerId"])),
        ({"customerId": one.gid}, ("NOT_FOUND", ["customerId"])),
        ({"customerId": gid("Customer", 999_999)}, ("NOT_FOUND", ["customerId"])),
        ({"after": "garbage"}, ("INVALID", ["after"])),
    ):
        body = await gql(SHIPMENTS, variables, expect_errors=True)
        assert body["data"] is None, variables
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [expected], variables


async def test_shipments_need_sales_read(app, sessionmaker) -> None:
    schema = app.routes[0].app.schema
    without = Principal(name="n", role="partner", scopes=ROLE_SCOPES["admin"] - {Scope.SALES_READ})
    result = await schema.execute("{ shipments { totalCount } }",
                                  context_value=Context(sessionmaker=sessionmaker, settings=None, principal=without))
    assert result.data is None
    assert [e.extensions["code"] for e in result.errors] == ["FORBIDDEN"]
    assert "sales:read" in result.errors[0].message
    allowed = Principal(name="s", role="sales", scopes=frozenset({Scope.SALES_READ}))
    ok = await schema.execute("{ shipments { totalCount } }",
                              context_value=Context(sessionmaker=sessionmaker, settings=None, principal=allowed))
    assert ok.errors is None and ok.data == {"shipments": {"totalCount": 0}}


async def test_payments_list_filters_pages_and_scope(gql, sessionmaker, make_token) -> None:
    acme, other = await customer(sessionmaker, "ACME"), await customer(sessionmaker, "OTHER")
    await seed_invoices(sessionmaker, acme, 3)
    await seed_invoices(sessionmaker, other, 1)
    for amount, who in (("10", acme), ("20", other), ("30", acme), ("40", acme)):
        assert (await pay(gql, who, amount, reference=f"ref {amount}"))["errors"] == []

    everything = (await gql(PAYMENTS, {"first": 10}))["data"]["payments"]
    assert everything["totalCount"] == 4
    assert [(e["node"]["amount"], e["node"]["customer"]["code"], e["node"]["reference"])
            for e in everything["edges"]] == [
        ("10.00", "ACME", "ref 10"), ("20.00", "OTHER", "ref 20"), ("30.00", "ACME", "ref 30"),
        ("40.00", "ACME", "ref 40"),
    ]
    mine = (await gql(PAYMENTS, {"customerId": gid("Customer", acme), "first": 2}))["data"]["payments"]
    assert mine["totalCount"] == 3 and mine["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["amount"] for e in mine["edges"]] == ["10.00", "30.00"]
    rest = (await gql(PAYMENTS, {"customerId": gid("Customer", acme), "first": 2,
                                 "after": mine["pageInfo"]["endCursor"]}))["data"]["payments"]
    assert [e["node"]["amount"] for e in rest["edges"]] == ["40.00"] and rest["pageInfo"]["hasNextPage"] is False
    empty = await customer(sessionmaker, "NONE")
    assert (await gql(PAYMENTS, {"customerId": gid("Customer", empty)}))["data"]["payments"]["totalCount"] == 0

    for customer_id, expected in (("garbage", "INVALID"), (gid("Invoice", 1), "NOT_FOUND"),
                                  (gid("Customer", 999_999), "NOT_FOUND")):
        body = await gql(PAYMENTS, {"customerId": customer_id}, expect_errors=True)
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
            (expected, ["customerId"])]

    sales = await make_token("sales")  # sales reads invoices and credit, not the payments ledger
    denied = await gql(PAYMENTS, {}, token=sales, expect_errors=True)
    assert denied["data"] is None and [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]
    finance = await make_token("finance")
    assert (await gql(PAYMENTS, {}, token=finance))["data"]["payments"]["totalCount"] == 4
