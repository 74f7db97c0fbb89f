"""createWorkOrdersForSalesOrders and SalesOrder.workOrders."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.relay import to_global_id
from domain.shared.events import DomainEvent
from tests.integration.helpers import adjust, create_item, create_warehouse
from tests.integration.sales_helpers import confirm, create_customer, create_order, pk
from tests.integration.test_work_orders import snapshot

TODAY = date.today()
CREATE = """
mutation($ids: [ID!]!) { createWorkOrdersForSalesOrders(orderIds: $ids) {
  workOrders { id number quantity status dueDate item { sku } salesOrder { id } }
  errors { code field message }
} }"""
ORDER = """
query($id: ID!) { node(id: $id) { ... on SalesOrder { workOrders { number quantity item { sku } } } } }"""


def due(days: int) -> str:
    return str(TODAY + timedelta(days=days))


async def create_for(gql: Any, ids: list[str], token: str | None = None) -> dict[str, Any]:
    return dict((await gql(CREATE, {"ids": ids}, token=token))["data"]["createWorkOrdersForSalesOrders"])


@pytest.fixture
async def world(gql, sessionmaker) -> dict[str, str]:
    ids = {
        "main": await create_warehouse(sessionmaker, "MAIN", default=True),
        "chair": await create_item(gql, "CHAIR", kind="FINISHED", procurement="MAKE", leadTimeDays=5),
        "table": await create_item(gql, "TABLE", kind="FINISHED", procurement="MAKE", leadTimeDays=8),
        "lamp": await create_item(gql, "LAMP", kind="FINISHED", procurement="MAKE"),
        "bolt": await create_item(gql, "BOLT"),
        "customer": await create_customer(gql, "ACME"),
    }
    await adjust(gql, ids["chair"], "3")
    await adjust(gql, ids["lamp"], "10")
    return ids


async def confirmed(gql: Any, world: dict[str, str], lines: list[tuple[str, str]], **extra: Any) -> str:
    payload = await create_order(
        gql, world["customer"], [{"itemId": world[item], "quantity": qty} for item, qty in lines], **extra
    )
    assert payload["errors"] == [], payload
    order_id = str(payload["order"]["id"])
    assert (await confirm(gql, order_id))["order"]["status"] == "CONFIRMED"
    return order_id


async def test_creates_one_work_order_per_uncovered_make_line(gql, sessionmaker, world) -> None:
    order = await confirmed(gql, world, [("chair", "5"), ("bolt", "10"), ("table", "4"), ("lamp", "2")],
                            requestedDate=due(30))
    payload = await create_for(gql, [order])
    assert payload["errors"] == []
    made = payload["workOrders"]
    # chair: 3 reserved, 2 uncovered; bolt is bought; lamp is fully reserved
    assert [(w["item"]["sku"], w["quantity"], w["status"]) for w in made] == [
        ("CHAIR", "2.00", "PLANNED"), ("TABLE", "4.00", "PLANNED")]
    assert {w["salesOrder"]["id"] for w in made} == {order}
    # due on the line's promised date (lead times from confirmation)
    assert [w["dueDate"] for w in made] == [due(5), due(8)]
    listed = (await gql(ORDER, {"id": order}))["data"]["node"]["workOrders"]
    assert [(w["number"], w["quantity"]) for w in listed] == [(w["number"], w["quantity"]) for w in made]
    async with sessionmaker() as s:
        events = (await s.execute(select(DomainEvent.entity_id, DomainEvent.payload).where(
            DomainEvent.type == "work_order.created").order_by(DomainEvent.id))).all()
    assert [e[0] for e in events] == [pk(w["id"]) for w in made]
    assert {e[1]["salesOrderId"] for e in events} == {pk(order)}

    # idempotent: everything is covered now
    before = await snapshot(sessionmaker)
    again = await create_for(gql, [order, order])
    assert again == {"workOrders": [], "errors": []}
    assert await snapshot(sessionmaker) == before


async def test_existing_work_orders_cover_lines_and_several_orders(gql, sessionmaker, world) -> None:
    first = await confirmed(gql, world, [("table", "3"), ("table", "2")])
    second = await confirmed(gql, world, [("table", "1")], requestedDate=due(40))
    # a hand-made work order of 4 tables for the first order covers its first line and half the second
    body = await gql("mutation($input: WorkOrderInput!) { createWorkOrder(input: $input) { errors { code } } }",
                     {"input": {"itemId": world["table"], "quantity": "4", "dueDate": due(9),
                                "salesOrderId": first}})
    assert body["data"]["createWorkOrder"]["errors"] == []
    payload = await create_for(gql, [second, first])
    assert payload["errors"] == []
    assert sorted((w["salesOrder"]["id"] == first, w["quantity"]) for w in payload["workOrders"]) == [
        (False, "1.00"), (True, "1.00")]
    assert (await create_for(gql, [first, second]))["workOrders"] == []
    listed = (await gql(ORDER, {"id": first}))["data"]["node"]["workOrders"]
    assert [w["quantity"] for w in listed] == ["4.00", "1.00"]


async def test_bad_ids_and_wrong_state_change_nothing(gql, sessionmaker, make_token, world) -> None:
    order = await confirmed(gql, world, [("table", "2")])
    drafted = await create_order(gql, world["customer"], [{"itemId": world["table"], "quantity": "1"}])
    draft_id = drafted["order"]["id"]
    sales, finance = await make_token("sales"), await make_token("finance")
    before = await snapshot(sessionmaker)
    cases: list[tuple[list[str], list[tuple[str, list[str]]]]] = [
        ([order, draft_id], [("INVALID_STATE", ["orderIds", "1"])]),
        ([to_global_id("SalesOrder", 999), order], [("NOT_FOUND", ["orderIds", "0"])]),
        ([order, world["table"]], [("NOT_FOUND", ["orderIds", "1"])]),
        (["garbage"], [("INVALID", ["orderIds", "0"])]),
    ]
    for ids, expected in cases:
        payload = await create_for(gql, ids)
        assert payload["workOrders"] == [], ids
        assert [(e["code"], e["field"]) for e in payload["errors"]] == expected, ids
    forbidden = await create_for(gql, [order], token=sales)
    assert [e["code"] for e in forbidden["errors"]] == ["FORBIDDEN"]
    assert await snapshot(sessionmaker) == before
    assert (await create_for(gql, []))["workOrders"] == []
    # a role without production:read sees no work orders on the order
    assert len((await create_for(gql, [order]))["workOrders"]) == 1
    node = (await gql(ORDER, {"id": order}, token=finance))["data"]["node"]
    assert node == {"workOrders": []}


async def test_stock_free_now_is_counted_before_making(gql, world) -> None:
    """20 chairs wanted, 3 reserved at confirmation; 12 arrive and wait to be allocated:
    only the 5 that neither stock nor reservation covers are made."""
    order = await confirmed(gql, world, [("chair", "20")])
    assert (await adjust(gql, world["chair"], "12"))["errors"] == []  # no worker: not yet allocated
    created = await create_for(gql, [order])
    assert created["errors"] == []
    assert [(w["item"]["sku"], w["quantity"]) for w in created["workOrders"]] == [("CHAIR", "5.00")]
