"""Shipping confirmed orders from their reservations: ledger, balances, statuses, bad input."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from domain.sales.models import SalesOrder, SalesOrderLine, Shipment
from domain.shared.events import DomainEvent
from tests.integration.order_builders import (
    Line,
    confirmed_order,
    customer,
    gid,
    item,
    ledger_state,
    warehouse,
)

D = Decimal
SHIP = """
mutation($input: ShipmentInput!) {
  shipSalesOrder(input: $input) {
    shipment { id number carrier trackingNumber shippedAt lines { item { sku } quantity }
               salesOrder { number } }
    order { status lines { shippedQuantity reservedQuantity } }
    errors { code field message }
  }
}"""


async def ship(gql, order_id: str, lines=None, **extra):
    variables = {"input": {"orderId": order_id, "lines": lines, **extra}}
    return (await gql(SHIP, variables))["data"]["shipSalesOrder"]


async def setup(sm):
    main = await warehouse(sm, "MAIN", default=True)
    east = await warehouse(sm, "EAST")
    cust = await customer(sm)
    a = await item(sm, "A", {main: "20", east: "5"})
    b = await item(sm, "B", {main: "8"})
    return main, east, cust, a, b


async def test_ship_partial_then_everything_reserved(gql, sessionmaker) -> None:
    main, east, cust, a, b = await setup(sessionmaker)
    order = await confirmed_order(sessionmaker, cust, [
        Line(a, "10", "5", reserve=((main, "7"), (east, "3"))),
        Line(b, "5", "2", reserve=((main, "5"),)),
    ], "SO-T1")
    before = await ledger_state(sessionmaker)
    assert before["balances"][(a, main)] == (D(20), D(7))

    first = await ship(gql, order.gid, [{"lineId": order.line_gid(0), "quantity": "8"}],
                       carrier="DHL", trackingNumber="TRK-1")
    assert first["errors"] == []
    assert first["shipment"]["number"].startswith("SH-")
    assert (first["shipment"]["carrier"], first["shipment"]["trackingNumber"]) == ("DHL", "TRK-1")
    assert first["shipment"]["lines"] == [{"item": {"sku": "A"}, "quantity": "8.00"}]
    assert first["shipment"]["salesOrder"]["number"] == "SO-T1"
    assert first["order"]["status"] == "PARTIALLY_SHIPPED"
    assert first["order"]["lines"] == [
        {"shippedQuantity": "8.00", "reservedQuantity": "2.00"},
        {"shippedQuantity": "0.00", "reservedQuantity": "5.00"},
    ]
    after = await ledger_state(sessionmaker)
    # default warehouse first: 7 from MAIN, 1 from EAST; on-hand and reserved fall together
    assert after["balances"][(a, main)] == (D(13), D(0))
    assert after["balances"][(a, east)] == (D(4), D(2))
    assert after["moves"] == before["moves"] + 2

    rest = await ship(gql, order.gid)  # default: everything reserved
    assert rest["errors"] == []
    assert sorted((ln["item"]["sku"], ln["quantity"]) for ln in rest["shipment"]["lines"]) == [
        ("A", "2.00"), ("B", "5.00"),
    ]
    assert rest["order"]["status"] == "SHIPPED"
    assert rest["order"]["lines"] == [
        {"shippedQuantity": "10.00", "reservedQuantity": "0.00"},
        {"shippedQuantity": "5.00", "reservedQuantity": "0.00"},
    ]
    final = await ledger_state(sessionmaker)
    assert final["balances"][(a, east)] == (D(2), D(0))
    assert final["balances"][(b, main)] == (D(3), D(0))

    history = await gql("query($id: ID!) { salesOrder(id: $id) { shipments { number } } node(id: $id) { id } }",
                        {"id": order.gid})
    assert [s["number"] for s in history["data"]["salesOrder"]["shipments"]] == [
        first["shipment"]["number"], rest["shipment"]["number"],
    ]
    node = await gql("query($id: ID!) { node(id: $id) { ... on Shipment { number lines { quantity } } } }",
                     {"id": first["shipment"]["id"]})
    assert node["data"]["node"]["number"] == first["shipment"]["number"]
    async with sessionmaker() as s:
        events = (await s.execute(select(DomainEvent.type, DomainEvent.payload)
                                  .where(DomainEvent.entity_type.in_(["Shipment", "SalesOrder"]))
                                  .order_by(DomainEvent.id))).all()
    assert [t for t, _ in events] == [
        "shipment.created", "order.status_changed", "shipment.created", "order.status_changed",
    ]
    assert [p["status"] for t, p in events if t == "order.status_changed"] == ["PARTIALLY_SHIPPED", "SHIPPED"]


async def test_partial_reservation_ships_only_what_is_reserved(gql, sessionmaker) -> None:
    main, _, cust, a, _ = await setup(sessionmaker)
    order = await confirmed_order(sessionmaker, cust, [Line(a, "10", "1", reserve=((main, "6"),))], "SO-T2")
    done = await ship(gql, order.gid)
    assert done["errors"] == [] and done["order"]["status"] == "PARTIALLY_SHIPPED"
    assert done["shipment"]["lines"] == [{"item": {"sku": "A"}, "quantity": "6.00"}]
    # nothing reserved any more: a default shipment has nothing to ship
    again = await ship(gql, order.gid)
    assert again["shipment"] is None and again["errors"][0]["code"] == "INVALID"


async def test_bad_shipments_change_nothing(gql, sessionmaker) -> None:
    main, _, cust, a, b = await setup(sessionmaker)
    order = await confirmed_order(sessionmaker, cust, [
        Line(a, "10", "1", reserve=((main, "6"),)), Line(b, "2", "1", reserve=((main, "2"),)),
    ], "SO-T3")
    other = await confirmed_order(sessionmaker, cust, [Line(b, "1", "1")], "SO-T4")
    draft = await confirmed_order(sessionmaker, cust, [Line(b, "1", "1")], "SO-T5", status="DRAFT")
    before = await ledger_state(sessionmaker)
    line0, line1 = order.line_gid(0), order.line_gid(1)
    cases = [
        ([{"lineId": line0, "quantity": "7"}], order.gid, ("INSUFFICIENT_STOCK", ["lines", "0", "quantity"])),
        ([{"lineId": line1, "quantity": "1"}, {"lineId": line0, "quantity": "6.5"}], order.gid,
         ("INSUFFICIENT_STOCK", ["lines", "1", "quantity"])),
        ([{"lineId": line0, "quantity": "0"}], order.gid, ("INVALID", ["lines", "0", "quantity"])),
        ([{"lineId": line0, "quantity": "-1"}], order.gid, ("INVALID", ["lines", "0", "quantity"])),
        ([{"lineId": line0, "quantity": "1"}, {"lineId": line0, "quantity": "1"}], order.gid,
         ("INVALID", ["lines", "1", "lineId"])),
        ([{"lineId": other.line_gid(0), "quantity": "1"}], order.gid,
         ("NOT_FOUND", ["lines", "0", "lineId"])),
        ([{"lineId": order.gid, "quantity": "1"}], order.gid, ("NOT_FOUND", ["lines", "0", "lineId"])),
        ([], order.gid, ("INVALID", ["lines"])),
        (None, other.gid, ("INVALID", None)),  # nothing reserved
        (None, draft.gid, ("INVALID_STATE", ["orderId"])),
        (None, gid("SalesOrder", 99999), ("NOT_FOUND", ["orderId"])),
        (None, "garbage", ("INVALID", ["orderId"])),
    ]
    for lines, order_id, (code, field) in cases:
        result = await ship(gql, order_id, lines)
        assert result["shipment"] is None, (lines, order_id)
        assert (result["errors"][0]["code"], result["errors"][0]["field"]) == (code, field), (lines, result)
        if lines and lines[0]["quantity"] == "7":  # quantities as the API shows them, not 6.000000
            assert result["errors"][0]["message"] == "only 6 reserved for this line"
    assert await ledger_state(sessionmaker) == before
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Shipment)) == 0
        assert await s.scalar(select(func.sum(SalesOrderLine.shipped_quantity))) == 0
        assert await s.scalar(select(SalesOrder.status).where(SalesOrder.id == order.id)) == "CONFIRMED"
        assert await s.scalar(select(func.count()).select_from(DomainEvent)
                              .where(DomainEvent.type == "shipment.created")) == 0


async def test_shipping_needs_sales_write(gql, sessionmaker, make_token) -> None:
    main, _, cust, a, _ = await setup(sessionmaker)
    order = await confirmed_order(sessionmaker, cust, [Line(a, "1", "1", reserve=((main, "1"),))], "SO-T6")
    finance = await make_token("finance")
    body = await gql(SHIP, {"input": {"orderId": order.gid}}, token=finance)
    assert body["data"]["shipSalesOrder"]["errors"][0]["code"] == "FORBIDDEN"
    assert (await ship(gql, order.gid))["order"]["status"] == "SHIPPED"
    shipped_again = await ship(gql, order.gid)
    assert shipped_again["errors"][0]["code"] == "INVALID_STATE"


async def test_concurrent_shipments_neither_double_ship_nor_deadlock(gql, sessionmaker) -> None:
    import asyncio

    main, _, cust, a, b = await setup(sessionmaker)
    same = await confirmed_order(sessionmaker, cust, [Line(a, "4", "1", reserve=((main, "4"),))], "SO-C0")
    # two orders touching the same items in opposite line order
    ab = await confirmed_order(sessionmaker, cust, [
        Line(a, "2", "1", reserve=((main, "2"),)), Line(b, "2", "1", reserve=((main, "2"),)),
    ], "SO-C1")
    ba = await confirmed_order(sessionmaker, cust, [
        Line(b, "2", "1", reserve=((main, "2"),)), Line(a, "2", "1", reserve=((main, "2"),)),
    ], "SO-C2")
    results = await asyncio.gather(*(ship(gql, o) for o in (same.gid, same.gid, same.gid, ab.gid, ba.gid)))
    assert sorted(r["errors"][0]["code"] if r["errors"] else "OK" for r in results) == [
        "INVALID_STATE", "INVALID_STATE", "OK", "OK", "OK",
    ]
    state = await ledger_state(sessionmaker)
    assert state["balances"][(a, main)] == (D(12), D(0))
    assert state["balances"][(b, main)] == (D(4), D(0))
