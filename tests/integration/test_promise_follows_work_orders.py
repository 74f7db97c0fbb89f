"""An order's promised date follows its work orders.

Backordered lines are promised from scheduled receipts (open work orders at their due
dates), so creating, rescheduling, cancelling a work order or reporting production
re-promises them: each order whose promisedDate moves gets one ``order.status_changed``
event with its status unchanged and a reason, which statusHistory and
``orderStatusChanged`` carry like any other.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from api.context import Context
from api.relay import to_global_id
from domain.identity.scopes import ROLE_SCOPES
from domain.identity.services import Principal
from domain.production.models import WorkOrder
from domain.sales.models import SalesOrderLine
from domain.sales.status_stream import decode_cursor, read_final
from domain.shared.events import DomainEvent
from tests.integration.helpers import SET_BOM, create_item, create_warehouse
from tests.integration.sales_helpers import confirm, create_customer, draft, pk, snapshot
from tests.integration.test_order_status_stream import SUBSCRIPTION, Stream, events_of
from tests.integration.test_work_orders import create_wo, release, report

TODAY = date.today()
ERRORS = "errors { code field message }"
WO = "workOrder { id number status dueDate startDate }"
RESCHEDULE = (
    "mutation($id: ID!, $due: Date!, $start: Date) { rescheduleWorkOrder(id: $id, dueDate: $due,"
    " startDate: $start) { " + WO + " " + ERRORS + " } }"
)
CANCEL = ("mutation($id: ID!, $reason: String!) { cancelWorkOrder(id: $id, reason: $reason) { "
          + WO + " " + ERRORS + " } }")
CLOSE = "mutation($id: ID!) { closeWorkOrder(id: $id) { " + WO + " " + ERRORS + " } }"
CREATE_FOR = ("mutation($ids: [ID!]!) { createWorkOrdersForSalesOrders(orderIds: $ids) {"
              " workOrders { number dueDate } " + ERRORS + " } }")
ORDER = """
query($id: ID!) { node(id: $id) { ... on SalesOrder { status promisedDate lines { promisedDate }
  statusHistory { cursor status previousStatus reason } } } }"""


def due(days: int) -> str:
    return str(TODAY + timedelta(days=days))


def moved(old: int, new: int, cause: str) -> str:
    return f"promised date moved from {due(old)} to {due(new)}: {cause}"


async def reschedule(gql: Any, wo_id: str, due_date: str, start: str | None = None,
                     token: str | None = None) -> dict[str, Any]:
    body = await gql(RESCHEDULE, {"id": wo_id, "due": due_date, "start": start}, token=token)
    return dict(body["data"]["rescheduleWorkOrder"])


async def cancel(gql: Any, wo_id: str, reason: str = "customer withdrew") -> dict[str, Any]:
    return dict((await gql(CANCEL, {"id": wo_id, "reason": reason}))["data"]["cancelWorkOrder"])


async def order_state(gql: Any, order_id: str) -> dict[str, Any]:
    return dict((await gql(ORDER, {"id": order_id}))["data"]["node"])


def updates(order: dict[str, Any]) -> list[str]:
    """Reasons of the events that left the status as it was (promise moves)."""
    return [h["reason"] for h in order["statusHistory"] if h["status"] == h["previousStatus"]]


async def event_count(sessionmaker: Any) -> int:
    async with sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(DomainEvent)) or 0)


async def work_orders(sessionmaker: Any) -> list[Any]:
    async with sessionmaker() as s:
        return list((await s.execute(
            select(WorkOrder.id, WorkOrder.status, WorkOrder.due_date, WorkOrder.start_date,
                   WorkOrder.completed_quantity).order_by(WorkOrder.id)
        )).all())


async def promised_lines(sessionmaker: Any) -> list[Any]:
    async with sessionmaker() as s:
        return list((await s.execute(
            select(SalesOrderLine.id, SalesOrderLine.promised_date).order_by(SalesOrderLine.id)
        )).all())


@pytest.fixture
async def world(gql, sessionmaker) -> dict[str, str]:
    ids = {
        "main": await create_warehouse(sessionmaker, "MAIN", default=True),
        "chair": await create_item(gql, "CHAIR", kind="FINISHED", procurement="MAKE", leadTimeDays=5),
        "table": await create_item(gql, "TABLE", kind="FINISHED", procurement="MAKE", leadTimeDays=8),
        "leg": await create_item(gql, "LEG"),
        "customer": await create_customer(gql, "ACME"),
    }
    body = await gql(SET_BOM, {"itemId": ids["chair"], "input": {"lines": [
        {"componentId": ids["leg"], "quantity": "4"}]}})
    assert body["data"]["setBom"]["errors"] == [], body
    return ids


async def confirmed(gql: Any, world: dict[str, str], quantity: str, item: str = "chair") -> str:
    order = await draft(gql, world["customer"], world[item], quantity)
    assert (await confirm(gql, order))["order"]["status"] == "CONFIRMED"
    return order


async def backordered_on_a_work_order(gql: Any, world: dict[str, str]) -> tuple[dict[str, Any], str]:
    """A work order of 10 chairs due in 20 days (starts in 15) and an order for 4
    promised on its due date (a receipt is used before the 5 days' lead time)."""
    wo = (await create_wo(gql, world["chair"], "10"))["workOrder"]
    assert (wo["dueDate"], wo["startDate"]) == (due(20), due(15))
    order = await confirmed(gql, world, "4")
    state = await order_state(gql, order)
    assert (state["promisedDate"], state["lines"]) == (due(20), [{"promisedDate": due(20)}])
    return wo, order


async def replay(app: Any, sessionmaker: Any, order_id: str, after: str, count: int) -> list[dict[str, Any]]:
    """``orderStatusChanged(orderId, after)`` on the real schema: the first ``count`` events.

    Replay serves final events only; a foreign transaction on a shared server can hold
    the horizon back for a moment, so wait until the table has them first.
    """
    for _ in range(1200):
        async with sessionmaker() as s:
            if len(await read_final(s, decode_cursor(after), order_id=pk(order_id))) >= count:
                break
        await asyncio.sleep(0.05)
    schema = app.routes[0].app.schema
    context = Context(sessionmaker=sessionmaker, settings=None,  # type: ignore[arg-type]
                      principal=Principal(name="t", role="sales", scopes=ROLE_SCOPES["sales"]),
                      request=SimpleNamespace(app=app))
    result = await schema.subscribe(SUBSCRIPTION, variable_values={"orderId": order_id, "after": after},
                                    context_value=context)
    stream = Stream(result)  # type: ignore[arg-type]
    try:
        return await events_of(stream, count)
    finally:
        await stream.close()


async def test_rescheduling_moves_the_promise_and_tells_subscribers(app, gql, sessionmaker, world) -> None:
    wo, order = await backordered_on_a_work_order(gql, world)
    confirmed_at = (await order_state(gql, order))["statusHistory"][-1]["cursor"]

    later = await reschedule(gql, wo["id"], due(25))
    assert later["errors"] == []
    # without a start date, the start moves as far as the due date
    assert (later["workOrder"]["dueDate"], later["workOrder"]["startDate"]) == (due(25), due(20))
    state = await order_state(gql, order)
    assert (state["status"], state["promisedDate"], state["lines"]) == (
        "CONFIRMED", due(25), [{"promisedDate": due(25)}])
    cause = f"work order {wo['number']} rescheduled"
    assert updates(state) == [moved(20, 25, cause)]

    # due before the start date: refused, nothing changes
    before = await snapshot(sessionmaker)
    refused = await reschedule(gql, wo["id"], due(12), due(13))
    assert refused["workOrder"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID", ["dueDate"])]
    assert await snapshot(sessionmaker) == before
    # earlier: the promise follows
    earlier = await reschedule(gql, wo["id"], due(12))
    assert earlier["errors"] == []
    assert (earlier["workOrder"]["dueDate"], earlier["workOrder"]["startDate"]) == (due(12), due(7))
    state = await order_state(gql, order)
    assert (state["promisedDate"], state["lines"]) == (due(12), [{"promisedDate": due(12)}])
    assert updates(state) == [moved(20, 25, cause), moved(25, 12, cause)]

    # what the event rows carry: the same type as status changes, status unchanged
    async with sessionmaker() as s:
        rows = (await s.execute(
            select(DomainEvent.type, DomainEvent.payload, DomainEvent.actor)
            .where(DomainEvent.entity_type == "SalesOrder", DomainEvent.entity_id == pk(order))
            .order_by(DomainEvent.id)
        )).all()
        rescheduled = (await s.execute(
            select(DomainEvent.payload).where(DomainEvent.type == "work_order.rescheduled")
            .order_by(DomainEvent.id)
        )).scalars().all()
    assert {r.type for r in rows} == {"order.status_changed"}
    assert [(r.payload["previousStatus"], r.payload["status"], r.payload.get("previousPromisedDate"),
             r.payload.get("promisedDate"), r.actor) for r in rows[-2:]] == [
        ("CONFIRMED", "CONFIRMED", due(20), due(25), "test-admin"),
        ("CONFIRMED", "CONFIRMED", due(25), due(12), "test-admin"),
    ]
    assert [(p["previousDueDate"], p["dueDate"], p["previousStartDate"], p["startDate"])
            for p in rescheduled] == [(due(20), due(25), due(15), due(20)), (due(25), due(12), due(20), due(7))]

    # a subscriber resuming after the confirmation gets both moves, with the order as it is now
    events = await replay(app, sessionmaker, order, confirmed_at, 2)
    assert [(e["previousStatus"], e["status"], e["reason"]) for e in events] == [
        ("CONFIRMED", "CONFIRMED", moved(20, 25, cause)), ("CONFIRMED", "CONFIRMED", moved(25, 12, cause))]
    assert {e["order"]["id"] for e in events} == {order} and events[1]["order"]["status"] == "CONFIRMED"
    assert decode_cursor(confirmed_at) < decode_cursor(events[0]["cursor"]) < decode_cursor(events[1]["cursor"])


async def test_same_dates_or_a_move_that_changes_no_promise_record_no_order_event(
    gql, sessionmaker, world
) -> None:
    wo, order = await backordered_on_a_work_order(gql, world)
    events = await event_count(sessionmaker)
    spare = (await create_wo(gql, world["chair"], "3", dueDate=due(30)))["workOrder"]  # not needed by anyone
    assert await event_count(sessionmaker) == events + 1  # work_order.created only
    events += 1

    # the same dates again: nothing at all
    same = await reschedule(gql, wo["id"], due(20), due(15))
    assert same["errors"] == [] and same["workOrder"]["dueDate"] == due(20)
    assert await event_count(sessionmaker) == events
    # only the start date: the work order's event, no re-promise
    assert (await reschedule(gql, wo["id"], due(20), due(10)))["workOrder"]["startDate"] == due(10)
    # the spare order moves, but the order is still promised from the first one
    assert (await reschedule(gql, spare["id"], due(22)))["workOrder"]["startDate"] == due(17)
    assert await event_count(sessionmaker) == events + 2
    state = await order_state(gql, order)
    assert state["promisedDate"] == due(20) and updates(state) == []

    # production planned for an order on its promised date changes no promise either
    other = await confirmed(gql, world, "2", "table")
    assert (await order_state(gql, other))["promisedDate"] == due(8)  # no receipt: lead time
    events = await event_count(sessionmaker)
    made = (await gql(CREATE_FOR, {"ids": [other]}))["data"]["createWorkOrdersForSalesOrders"]
    assert made["errors"] == [] and [w["dueDate"] for w in made["workOrders"]] == [due(8)]
    assert await event_count(sessionmaker) == events + 1  # work_order.created only
    assert updates(await order_state(gql, other)) == [] and updates(await order_state(gql, order)) == []


async def test_creating_a_work_order_pulls_a_promise_in(gql, sessionmaker, world) -> None:
    order = await confirmed(gql, world, "4")
    assert (await order_state(gql, order))["promisedDate"] == due(5)  # no receipt: lead time
    wo = (await create_wo(gql, world["chair"], "4", dueDate=due(3)))["workOrder"]
    state = await order_state(gql, order)
    assert (state["promisedDate"], state["lines"]) == (due(3), [{"promisedDate": due(3)}])
    assert updates(state) == [moved(5, 3, f"work order {wo['number']} created")]


async def test_cancelling_the_work_order_falls_back_to_lead_time(gql, sessionmaker, world) -> None:
    wo, order = await backordered_on_a_work_order(gql, world)
    blank = await cancel(gql, wo["id"], " ")
    assert [(e["code"], e["field"]) for e in blank["errors"]] == [("INVALID", ["reason"])]

    payload = await cancel(gql, wo["id"], "  customer withdrew ")
    assert payload["errors"] == [] and payload["workOrder"]["status"] == "CANCELLED"
    state = await order_state(gql, order)
    assert (state["promisedDate"], state["lines"]) == (due(5), [{"promisedDate": due(5)}])
    assert updates(state) == [moved(20, 5, f"work order {wo['number']} cancelled")]
    async with sessionmaker() as s:
        event = (await s.execute(select(DomainEvent.payload).where(
            DomainEvent.type == "work_order.cancelled"))).scalar_one()
    assert (event["previousStatus"], event["status"], event["reason"]) == ("PLANNED", "CANCELLED",
                                                                           "customer withdrew")
    # a cancelled work order is no supply any more and stays cancelled
    before = await snapshot(sessionmaker)
    for again in (await cancel(gql, wo["id"]), await reschedule(gql, wo["id"], due(30)),
                  (await gql(CLOSE, {"id": wo["id"]}))["data"]["closeWorkOrder"]):
        assert [(e["code"], e["field"]) for e in again["errors"]] == [("INVALID_STATE", ["id"])]
    assert await snapshot(sessionmaker) == before


async def test_bad_reschedules_and_cancels_change_nothing(gql, sessionmaker, make_token, world) -> None:
    wo, _ = await backordered_on_a_work_order(gql, world)
    started = (await create_wo(gql, world["chair"], "2"))["workOrder"]
    assert (await release(gql, started["id"]))["errors"] == []
    assert (await report(gql, started["id"], "1"))["workOrder"]["status"] == "IN_PROGRESS"
    done = (await create_wo(gql, world["chair"], "1"))["workOrder"]
    assert (await release(gql, done["id"]))["errors"] == []
    assert (await report(gql, done["id"], "1"))["workOrder"]["status"] == "COMPLETED"
    sales = await make_token("sales")

    before = (await snapshot(sessionmaker), await work_orders(sessionmaker), await promised_lines(sessionmaker))
    cases: list[tuple[dict[str, Any], tuple[str, list[str]]]] = [
        ({"due_date": due(10), "start": due(11)}, ("INVALID", ["dueDate"])),
        # in progress: keeps its start date (in 15 days)
        ({"wo_id": started["id"], "due_date": due(14)}, ("INVALID", ["dueDate"])),
        ({"wo_id": to_global_id("WorkOrder", 999)}, ("NOT_FOUND", ["id"])),
        ({"wo_id": world["chair"]}, ("NOT_FOUND", ["id"])),
        ({"wo_id": "garbage"}, ("INVALID", ["id"])),
        ({"wo_id": done["id"]}, ("INVALID_STATE", ["id"])),
        ({"token": sales}, ("FORBIDDEN", None)),
    ]
    for override, expected in cases:
        args = {"wo_id": wo["id"], "due_date": due(25)} | override
        payload = await reschedule(gql, **args)
        assert payload["workOrder"] is None, override
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [expected], override
    for target in (started["id"], done["id"]):  # something completed: too late to cancel
        assert [e["code"] for e in (await cancel(gql, target))["errors"]] == ["INVALID_STATE"]
    for target in (wo["id"], started["id"]):  # only a completed work order closes
        assert [e["code"] for e in (await gql(CLOSE, {"id": target}))["data"]["closeWorkOrder"]["errors"]] == [
            "INVALID_STATE"]
    assert before == (await snapshot(sessionmaker), await work_orders(sessionmaker),
                      await promised_lines(sessionmaker))

    closed = (await gql(CLOSE, {"id": done["id"]}))["data"]["closeWorkOrder"]
    assert closed["errors"] == [] and closed["workOrder"]["status"] == "CLOSED"
    # an in-progress work order may still be rescheduled
    assert (await reschedule(gql, started["id"], due(40)))["workOrder"]["dueDate"] == due(40)


async def test_reported_production_is_promised_today_in_confirmation_order(gql, sessionmaker, world) -> None:
    """Reported units are stock now, unreserved: re-promising counts stock free after
    reservations as arriving today, and earlier confirmed orders claim it first.

    Work order of 10 due in 20 days; order A (4) is confirmed before order B (6),
    although B was entered first, so both are promised on the due date. After 2
    units: A would need 2 of the 8 still due, B queues behind: nothing moves. After
    5 more (7 in stock): A is promised today; B claims the 3 left after A plus 3 due,
    so it stays. When the work order completes, B is promised today as well.
    """
    wo = (await create_wo(gql, world["chair"], "10"))["workOrder"]
    b = await draft(gql, world["customer"], world["chair"], "6")
    a = await confirmed(gql, world, "4")
    assert (await confirm(gql, b))["order"]["promisedDate"] == due(20)
    assert (await order_state(gql, a))["promisedDate"] == due(20)
    assert (await release(gql, wo["id"]))["errors"] == []
    events = await event_count(sessionmaker)

    assert (await report(gql, wo["id"], "2"))["errors"] == []
    # work_order.production_reported, and stock.freed for the backorders (no worker runs here)
    assert await event_count(sessionmaker) == events + 2
    assert (await order_state(gql, a))["promisedDate"] == due(20)

    assert (await report(gql, wo["id"], "5"))["workOrder"]["status"] == "IN_PROGRESS"
    state_a, state_b = await order_state(gql, a), await order_state(gql, b)
    assert (state_a["promisedDate"], state_b["promisedDate"]) == (due(0), due(20))
    assert updates(state_a) == [moved(20, 0, f"work order {wo['number']} reported 5 produced")]
    assert updates(state_b) == []

    assert (await report(gql, wo["id"], "3"))["workOrder"]["status"] == "COMPLETED"
    state_a, state_b = await order_state(gql, a), await order_state(gql, b)
    assert (state_a["promisedDate"], state_b["promisedDate"]) == (due(0), due(0))
    assert len(updates(state_a)) == 1
    assert updates(state_b) == [moved(20, 0, f"work order {wo['number']} completed")]
