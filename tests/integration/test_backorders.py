"""Backorders fill from stock that becomes free: receipts, cancellations, on demand."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from domain.inventory.models import StockBalance
from domain.sales.models import SalesOrder
from domain.shared.events import DomainEvent
from erpgraph.settings import Settings
from tests.integration.helpers import adjust, create_item, create_warehouse, set_bom
from tests.integration.mrp_helpers import worker
from tests.integration.sales_helpers import (
    ERRORS,
    ORDER_FIELDS,
    confirm,
    create_customer,
    draft,
    ledger_consistent,
    pk,
    snapshot,
)
from tests.integration.test_purchasing import create_po, receive
from tests.integration.test_receivables import PAY, invoice, ship
from tests.integration.test_work_orders import released, report

TODAY = date.today()
ORDER = "query($id: ID!) { node(id: $id) { ... on SalesOrder {" + ORDER_FIELDS + "} } }"
ALLOCATE = (
    "mutation($ids: [ID!]!) { allocateStock(itemIds: $ids) {"
    " allocations { line { id } order { id number } quantity } " + ERRORS + " } }"
)
CANCEL = "mutation($id: ID!) { cancelSalesOrder(id: $id, reason: \"customer changed mind\") { " + ERRORS + " } }"


async def order(gql: Any, order_id: str) -> dict[str, Any]:
    return dict((await gql(ORDER, {"id": order_id}))["data"]["node"])


def reserved(current: dict[str, Any]) -> list[Decimal]:
    return [Decimal(line["reservedQuantity"]) for line in current["lines"]]


async def reserved_of(gql: Any, order_id: str) -> list[Decimal]:
    return reserved(await order(gql, order_id))


async def until_reserved(gql: Any, order_id: str, expected: list[int], timeout: float = 10) -> dict[str, Any]:
    """The order once its lines hold ``expected`` (the worker allocates a moment after the commit)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await order(gql, order_id)
        if reserved(current) == expected:
            # once more: the order and its lines are read by separate statements, and the
            # first read may have straddled the allocation's commit
            return await order(gql, order_id)
        assert asyncio.get_running_loop().time() < deadline, current
        await asyncio.sleep(0.1)


async def reasons(sessionmaker: Any, order_id: str) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(DomainEvent.payload["reason"].astext)
            .where(DomainEvent.entity_type == "SalesOrder", DomainEvent.entity_id == pk(order_id))
            .order_by(DomainEvent.id)
        )
        return [reason for reason in rows.scalars() if reason]


async def bells(gql: Any, sessionmaker: Any, on_hand: str) -> tuple[str, str]:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    bell = await create_item(gql, "BELL-01", leadTimeDays=5, listPrice="10")
    if on_hand != "0":
        assert (await adjust(gql, bell, on_hand))["errors"] == []
    return bell, await create_customer(gql, "ACME")


async def confirmed(gql: Any, customer: str, item: str, quantity: str) -> str:
    order_id = await draft(gql, customer, item, quantity)
    assert (await confirm(gql, order_id))["errors"] == []
    return order_id


async def test_a_receipt_fills_the_oldest_promise_first(gql: Any, sessionmaker: Any, settings: Settings) -> None:
    async with worker(settings):
        bell, customer = await bells(gql, sessionmaker, "45")
        first = await confirmed(gql, customer, bell, "50")  # 45 reserved, 5 backordered
        second = await confirmed(gql, customer, bell, "3")  # 3 backordered, promised after the first
        assert await reserved_of(gql, first) == [45] and await reserved_of(gql, second) == [0]
        po = await create_po(gql, [{"itemId": bell, "quantity": "6", "unitCost": "4", "dueDate": str(TODAY)}])
        assert po["errors"] == []
        assert (await receive(gql, po["purchaseOrder"]["id"]))["errors"] == []
        filled = await until_reserved(gql, first, [50])
        waiting = await until_reserved(gql, second, [1])
    assert Decimal(filled["lines"][0]["backorderedQuantity"]) == 0
    assert filled["lines"][0]["promisedDate"] == filled["promisedDate"] == str(TODAY)
    assert Decimal(waiting["lines"][0]["backorderedQuantity"]) == 2
    number = po["purchaseOrder"]["number"]
    # placing the purchase order already brought the promise forward; the receipt reserves
    assert (await reasons(sessionmaker, first))[-2:] == [
        f"promised date moved from {TODAY + timedelta(days=5)} to {TODAY}: purchase order {number} placed",
        f"reserved 5 of BELL-01 from receipt {number}",
    ]
    assert (await reasons(sessionmaker, second))[-1].startswith(f"reserved 1 of BELL-01 from receipt {number}")
    await ledger_consistent(sessionmaker)


async def test_a_cancelled_reservation_flows_to_the_next_backorder(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    async with worker(settings):
        bell, customer = await bells(gql, sessionmaker, "10")
        first = await confirmed(gql, customer, bell, "10")
        second = await confirmed(gql, customer, bell, "4")
        assert (await gql(CANCEL, {"id": first}))["data"]["cancelSalesOrder"]["errors"] == []
        await until_reserved(gql, second, [4])
    number = (await order(gql, first))["number"]
    # filled by the allocation: promised today instead of at the lead time
    assert (await reasons(sessionmaker, second))[-1] == (
        f"reserved 4 of BELL-01 from cancellation of {number}; "
        f"promised date moved from {TODAY + timedelta(days=5)} to {TODAY}"
    )
    await ledger_consistent(sessionmaker)


async def test_allocate_stock_on_demand_then_nothing_is_left_waiting(gql: Any, sessionmaker: Any) -> None:
    bell, customer = await bells(gql, sessionmaker, "0")
    waiting = await confirmed(gql, customer, bell, "8")
    assert (await adjust(gql, bell, "5"))["errors"] == []  # no worker runs: nothing allocated yet
    assert await reserved_of(gql, waiting) == [0]

    body = (await gql(ALLOCATE, {"ids": [bell]}))["data"]["allocateStock"]
    line_id = (await order(gql, waiting))["lines"][0]["id"]
    number = (await order(gql, waiting))["number"]
    assert body["errors"] == []
    assert [(a["line"], a["order"], Decimal(a["quantity"])) for a in body["allocations"]] == [
        ({"id": line_id}, {"id": waiting, "number": number}, Decimal(5))]
    assert await reserved_of(gql, waiting) == [5]
    again = (await gql(ALLOCATE, {"ids": [bell]}))["data"]["allocateStock"]
    assert again == {"allocations": [], "errors": []}
    await ledger_consistent(sessionmaker)


async def test_allocate_stock_refuses_bad_ids_and_changes_nothing(gql: Any, sessionmaker: Any, make_token: Any) -> None:
    bell, customer = await bells(gql, sessionmaker, "0")
    await confirmed(gql, customer, bell, "2")
    assert (await adjust(gql, bell, "2"))["errors"] == []
    sales = await make_token("sales")
    before = await snapshot(sessionmaker)
    for ids, expected in (
        ([], [("INVALID", ["itemIds"])]),
        ([bell, "bm9wZQ==", customer], [("INVALID", ["itemIds", "1"]), ("NOT_FOUND", ["itemIds", "2"])]),
        ([bell, "SXRlbTo5OTk5"], [("NOT_FOUND", ["itemIds", "1"])]),  # Item:9999
    ):
        body = (await gql(ALLOCATE, {"ids": ids}))["data"]["allocateStock"]
        assert body["allocations"] == []
        assert [(e["code"], e["field"]) for e in body["errors"]] == expected
    body = (await gql(ALLOCATE, {"ids": [bell]}, token=sales))["data"]["allocateStock"]
    assert [e["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await snapshot(sessionmaker) == before


async def test_order_with_a_backorder_runs_to_closed_with_no_manual_step(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    """50 ordered with 45 on hand → receive 5 → ship 50 → invoice → pay → CLOSED."""
    async with worker(settings):
        bell, customer = await bells(gql, sessionmaker, "45")
        order_id = await confirmed(gql, customer, bell, "50")
        po = await create_po(gql, [{"itemId": bell, "quantity": "5", "unitCost": "4", "dueDate": str(TODAY)}])
        assert (await receive(gql, po["purchaseOrder"]["id"]))["errors"] == []
        await until_reserved(gql, order_id, [50])
    await ship(gql, order_id)
    billed = await invoice(gql, order_id)
    assert billed["errors"] == [] and Decimal(billed["invoice"]["total"]) == Decimal("500")
    paid = (await gql(PAY, {"input": {"customerId": customer, "amount": billed["invoice"]["total"]}}))
    assert paid["data"]["recordPayment"]["errors"] == []
    assert (await order(gql, order_id))["status"] == "CLOSED"
    async with sessionmaker() as session:
        assert (await session.get(SalesOrder, pk(order_id))).status == "CLOSED"  # type: ignore[union-attr]


async def test_concurrent_arrivals_confirmations_and_allocations_never_oversell(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    """25 confirmations of 1, 10 arrivals of 2 and 3 allocateStock calls at once, on one
    item with 10 on hand: no deadlock, no error, and every order ends fully reserved."""
    async with worker(settings):
        bell, customer = await bells(gql, sessionmaker, "10")
        orders = [await draft(gql, customer, bell, "1") for _ in range(25)]
        results = await asyncio.gather(
            *(confirm(gql, order_id) for order_id in orders),
            *(adjust(gql, bell, "2") for _ in range(10)),
            *(gql(ALLOCATE, {"ids": [bell]}) for _ in range(3)),
        )
        errors = [r.get("errors") or r.get("data", {}).get("allocateStock", {}).get("errors") for r in results]
        assert not any(errors), errors
        # 30 on hand, 25 wanted: the worker's jobs serve whatever confirmation left waiting
        for order_id in orders:
            await until_reserved(gql, order_id, [1])
    async with sessionmaker() as session:
        on_hand, held = (await session.execute(
            select(func.sum(StockBalance.on_hand), func.sum(StockBalance.reserved))
        )).one()
    assert (on_hand, held) == (30, 25)
    await ledger_consistent(sessionmaker)


CLOSE = (
    "mutation($id: ID!, $reason: String!) { closeSalesOrderShort(id: $id, reason: $reason) {"
    " order { status lines { shippedQuantity cancelledQuantity reservedQuantity backorderedQuantity } } "
    + ERRORS + " } }"
)


async def close_short(gql: Any, order_id: str, reason: str = "customer takes what shipped") -> dict[str, Any]:
    return dict((await gql(CLOSE, {"id": order_id, "reason": reason}))["data"]["closeSalesOrderShort"])


async def test_close_short_cancels_the_rest_and_its_stock_goes_to_the_next_backorder(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    async with worker(settings):
        bell, customer = await bells(gql, sessionmaker, "10")
        first = await confirmed(gql, customer, bell, "10")
        second = await confirmed(gql, customer, bell, "5")
        await ship(gql, first, [{"lineId": (await order(gql, first))["lines"][0]["id"], "quantity": "4"}])
        refused = (await gql(CANCEL, {"id": first}))["data"]["cancelSalesOrder"]["errors"]
        assert [e["code"] for e in refused] == ["INVALID_STATE"] and "closeSalesOrderShort" in refused[0]["message"]

        closed = await close_short(gql, first)
        assert closed["errors"] == [] and closed["order"]["status"] == "SHIPPED"
        line = closed["order"]["lines"][0]
        assert [Decimal(line[k]) for k in ("shippedQuantity", "cancelledQuantity", "reservedQuantity",
                                           "backorderedQuantity")] == [4, 6, 0, 0]
        await until_reserved(gql, second, [5])
    number = (await order(gql, first))["number"]
    assert (await reasons(sessionmaker, first))[-1] == "closed short: customer takes what shipped"
    assert (await reasons(sessionmaker, second))[-1].startswith(f"reserved 5 of BELL-01 from close-short of {number}")
    billed = await invoice(gql, first)
    assert billed["errors"] == [] and Decimal(billed["invoice"]["total"]) == 40
    await ledger_consistent(sessionmaker)


async def test_close_short_with_nothing_shipped_cancels_and_bad_closes_change_nothing(
    gql: Any, sessionmaker: Any
) -> None:
    bell, customer = await bells(gql, sessionmaker, "3")
    waiting = await confirmed(gql, customer, bell, "5")
    unconfirmed = await draft(gql, customer, bell, "1")
    before = await snapshot(sessionmaker)
    for order_id, reason, expected in (
        (unconfirmed, "x", ("INVALID_STATE", ["id"])),
        (waiting, " ", ("INVALID", ["reason"])),
        ("U2FsZXNPcmRlcjo5OTk=", "x", ("NOT_FOUND", ["id"])),  # SalesOrder:999
        (bell, "x", ("NOT_FOUND", ["id"])),
    ):
        body = await close_short(gql, order_id, reason)
        assert body["order"] is None and [(e["code"], e["field"]) for e in body["errors"]] == [expected]
    assert await snapshot(sessionmaker) == before

    closed = await close_short(gql, waiting)
    assert closed["errors"] == [] and closed["order"]["status"] == "CANCELLED"
    assert [Decimal(closed["order"]["lines"][0][k]) for k in ("cancelledQuantity", "reservedQuantity")] == [5, 0]
    again = await close_short(gql, waiting)
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("INVALID_STATE", ["id"])]
    await ledger_consistent(sessionmaker)


async def test_reported_production_fills_a_made_items_backorder(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    async with worker(settings):
        await create_warehouse(sessionmaker, "MAIN", default=True)
        bike = await create_item(gql, "BIKE-01", kind="FINISHED", procurement="MAKE", leadTimeDays=2, listPrice="500")
        frame = await create_item(gql, "FRAME-01")
        assert (await set_bom(gql, bike, [(frame, "1")]))["errors"] == []
        assert (await adjust(gql, frame, "3"))["errors"] == []
        customer = await create_customer(gql, "ACME")
        waiting = await confirmed(gql, customer, bike, "3")
        work_order = await released(gql, bike, "3")
        done = await report(gql, work_order["id"], "3", backflush=True)
        assert done["errors"] == [] and done["workOrder"]["status"] == "COMPLETED"
        filled = await until_reserved(gql, waiting, [3])
    assert filled["promisedDate"] == str(TODAY)
    reason = (await reasons(sessionmaker, waiting))[-1]
    assert reason.startswith(f"reserved 3 of BIKE-01 from production of {work_order['number']}"), reason
    await ledger_consistent(sessionmaker)
