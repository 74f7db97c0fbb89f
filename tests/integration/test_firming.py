"""firmPlannedOrders end to end: a real worker plans, the API firms, the next run plans around it."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from api.relay import to_global_id
from domain.planning.models import PlannedOrder
from domain.production.models import WorkOrder
from domain.purchasing.models import PurchaseOrder, PurchaseOrderLine
from domain.shared.events import DomainEvent
from erpgraph.settings import Settings
from tests.integration.helpers import (
    CREATE_ITEM,
    adjust,
    create_item,
    create_supplier,
    create_warehouse,
    set_bom,
    snapshot_table,
)
from tests.integration.mrp_helpers import pegging_orphans, planned, run_and_wait
from tests.integration.sales_helpers import confirm, create_customer, create_order, pk


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Planned orders with their pegging: a list without a cheap real maximum (api.list_maxima),
    # counted with ERPGRAPH_MAX_LINES entries, over the default cost in full pages of 100.
    return settings.model_copy(update={"max_cost": 100_000_000})


TODAY = date.today()
ERRORS = "errors { code field message }"
FIRM = (
    "mutation($ids: [ID!]!, $merge: Boolean) { firmPlannedOrders(ids: $ids, merge: $merge) {"
    " purchaseOrders { id number supplier { name } subcontract status"
    "   lines { item { sku } quantity unitCost dueDate } }"
    " workOrders { id number status quantity startDate dueDate item { sku } } "
    + ERRORS + " } }"
)
UPDATE_SUPPLIER = ("mutation($id: ID!, $input: SupplierUpdateInput!) { updateSupplier(id: $id, input: $input) {"
                   " supplier { active } errors { code field } } }")
INCOMING = "query($id: ID!) { node(id: $id) { ... on Item { incoming } } }"
# suppliers of the bought items unless a test says otherwise
SUPPLIERS: dict[str, str | None] = {"RIM": "Rim Co", "SADDLE": "Saddle Co", "FRAME": "Frame Works"}


def day(n: int) -> str:
    return str(TODAY + timedelta(days=n))


async def bike_shop(
    gql: Any, sessionmaker: Any, settings: Settings, orders: tuple[tuple[str, int], ...] = (("4", 10),),
    suppliers: dict[str, str | None] | None = None,
) -> dict[str, str]:
    """bike (MAKE, 2 days) = 2 wheels (MAKE, 1 day; 5 in stock) + 1 frame (SUBCONTRACT, 5 days;
    1 in stock) + 1 saddle (BUY, 4 days); wheel = 1 rim (BUY, 3 days, standard cost 12.50).
    One confirmed order per (quantity, days from today) in ``orders``; then MRP runs."""
    names = SUPPLIERS | (suppliers or {})
    supplier_ids = {name: await create_supplier(gql, name.upper().replace(" ", "-"), name)
                    for name in sorted({n for n in names.values() if n is not None})}
    by_sku = {sku: None if name is None else supplier_ids[name] for sku, name in names.items()}
    await create_warehouse(sessionmaker, "MAIN", default=True)
    ids = {
        "RIM": await create_item(gql, "RIM", leadTimeDays=3, standardCost="12.50",
                                 defaultSupplierId=by_sku["RIM"]),
        "SADDLE": await create_item(gql, "SADDLE", leadTimeDays=4, defaultSupplierId=by_sku["SADDLE"]),
        "FRAME": await create_item(gql, "FRAME", kind="SEMI_FINISHED", procurement="SUBCONTRACT",
                                   leadTimeDays=5, defaultSupplierId=by_sku["FRAME"]),
        "WHEEL": await create_item(gql, "WHEEL", kind="SEMI_FINISHED", procurement="MAKE", leadTimeDays=1),
        "BIKE": await create_item(gql, "BIKE", kind="FINISHED", procurement="MAKE", leadTimeDays=2,
                                  listPrice="500"),
    }
    assert (await set_bom(gql, ids["WHEEL"], [(ids["RIM"], "1")]))["errors"] == []
    bike_bom = [(ids["WHEEL"], "2"), (ids["FRAME"], "1"), (ids["SADDLE"], "1")]
    assert (await set_bom(gql, ids["BIKE"], bike_bom))["errors"] == []
    assert (await adjust(gql, ids["WHEEL"], "5"))["errors"] == []
    assert (await adjust(gql, ids["FRAME"], "1"))["errors"] == []
    customer = await create_customer(gql, "ACME", credit_limit="100000")
    for quantity, days in orders:
        created = await create_order(gql, customer, [{"itemId": ids["BIKE"], "quantity": quantity}],
                                     requestedDate=day(days))
        assert created["errors"] == [], created
        assert (await confirm(gql, str(created["order"]["id"])))["errors"] == []
    await run_and_wait(gql, settings, startDate=str(TODAY), horizonDays=60)
    return ids


async def plan(gql: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """The planned orders in force by (sku, due date)."""
    return {(o["item"]["sku"], o["dueDate"]): o for o in await planned(gql)}


async def firm(gql: Any, ids: list[str], merge: bool | None = None, token: str | None = None) -> dict[str, Any]:
    body = await gql(FIRM, {"ids": ids, "merge": merge}, token=token)
    return dict(body["data"]["firmPlannedOrders"])


def lines(po: dict[str, Any]) -> list[tuple[str, Decimal, str]]:
    return [(ln["item"]["sku"], Decimal(ln["quantity"]), ln["dueDate"]) for ln in po["lines"]]


def work(wo: dict[str, Any]) -> tuple[str, Decimal, str | None, str]:
    return wo["item"]["sku"], Decimal(wo["quantity"]), wo["startDate"], wo["dueDate"]


def errors(payload: dict[str, Any]) -> list[tuple[str, tuple[str, ...] | None]]:
    return [(e["code"], tuple(e["field"]) if e["field"] is not None else None) for e in payload["errors"]]


async def counts(sessionmaker: Any) -> dict[str, Any]:
    async with sessionmaker() as s:
        rows = {
            model.__name__: await s.scalar(select(func.count()).select_from(model))
            for model in (PurchaseOrder, PurchaseOrderLine, WorkOrder, DomainEvent)
        }
        firmed = (await s.execute(
            select(PlannedOrder.id, PlannedOrder.status, PlannedOrder.purchase_order_line_id,
                   PlannedOrder.work_order_id).order_by(PlannedOrder.id)
        )).all()
    return rows | {"planned": firmed}


async def incoming(gql: Any, item_id: str) -> Decimal:
    return Decimal((await gql(INCOMING, {"id": item_id}))["data"]["node"]["incoming"])


async def test_firming_without_merge_makes_one_document_per_planned_order(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    items = await bike_shop(gql, sessionmaker, settings)
    by_key = await plan(gql)
    keys = [("BIKE", day(10)), ("RIM", day(7)), ("FRAME", day(8)), ("WHEEL", day(8)), ("SADDLE", day(8))]
    assert sorted(by_key) == sorted(keys)
    assert [await incoming(gql, items[sku]) for sku in ("RIM", "BIKE")] == [0, 0]

    payload = await firm(gql, [by_key[key]["id"] for key in keys])

    assert payload["errors"] == []
    pos, wos = payload["purchaseOrders"], payload["workOrders"]
    # in the order the request named them
    assert [(po["supplier"]["name"], po["subcontract"], po["status"], lines(po)) for po in pos] == [
        ("Rim Co", False, "OPEN", [("RIM", Decimal(3), day(7))]),
        ("Frame Works", True, "OPEN", [("FRAME", Decimal(3), day(8))]),
        ("Saddle Co", False, "OPEN", [("SADDLE", Decimal(4), day(8))]),
    ]
    assert [[ln["unitCost"] and Decimal(ln["unitCost"]) for ln in po["lines"]] for po in pos] == [
        [Decimal("12.50")], [None], [None],
    ]
    # started on the planned release date
    assert [work(wo) for wo in wos] == [
        ("BIKE", Decimal(4), by_key["BIKE", day(10)]["releaseDate"], day(10)),
        ("WHEEL", Decimal(3), by_key["WHEEL", day(8)]["releaseDate"], day(8)),
    ]
    assert all(wo["status"] == "PLANNED" for wo in wos)

    after = await plan(gql)
    assert sorted(after) == sorted(keys)
    assert {o["id"] for o in after.values()} == {o["id"] for o in by_key.values()}
    assert all(o["status"] == "FIRMED" for o in after.values())
    assert {key: (o["firmedAs"]["__typename"], o["firmedAs"]["number"]) for key, o in after.items()} == {
        ("RIM", day(7)): ("PurchaseOrder", pos[0]["number"]),
        ("FRAME", day(8)): ("PurchaseOrder", pos[1]["number"]),
        ("SADDLE", day(8)): ("PurchaseOrder", pos[2]["number"]),
        ("BIKE", day(10)): ("WorkOrder", wos[0]["number"]),
        ("WHEEL", day(8)): ("WorkOrder", wos[1]["number"]),
    }
    assert [await incoming(gql, items[sku]) for sku in ("RIM", "FRAME", "SADDLE", "WHEEL", "BIKE")] == [
        3, 3, 4, 3, 4,
    ]
    async with sessionmaker() as s:
        events = (await s.execute(
            select(DomainEvent.entity_id, DomainEvent.payload)
            .where(DomainEvent.type == "planned_order.firmed").order_by(DomainEvent.id)
        )).all()
    recorded = {to_global_id("PlannedOrder", entity_id): payload for entity_id, payload in events}
    assert len(events) == 5 and set(recorded) == {o["id"] for o in after.values()}
    rim_event, bike_event = recorded[after["RIM", day(7)]["id"]], recorded[after["BIKE", day(10)]["id"]]
    assert (rim_event["kind"], rim_event["purchaseOrderId"], rim_event["workOrderId"]) == (
        "PURCHASE", pk(pos[0]["id"]), None,
    )
    assert (bike_event["kind"], bike_event["workOrderId"]) == ("PRODUCTION", pk(wos[0]["id"]))


async def test_merge_puts_one_suppliers_purchases_on_one_order_per_kind(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await bike_shop(gql, sessionmaker, settings, orders=(("4", 10), ("2", 17), ("3", 18)),
                    suppliers={"RIM": "Parts Co", "SADDLE": "Parts Co", "FRAME": "Parts Co"})
    by_key = await plan(gql)
    bought = sorted((key for key in by_key if key[0] in ("RIM", "SADDLE", "FRAME")), key=lambda k: k[1])
    assert len(bought) == 9

    payload = await firm(gql, [by_key[key]["id"] for key in bought], merge=True)

    assert payload["errors"] == [] and payload["workOrders"] == []
    pos = sorted(payload["purchaseOrders"], key=lambda po: po["subcontract"])
    assert [(po["supplier"]["name"], po["subcontract"]) for po in pos] == [("Parts Co", False), ("Parts Co", True)]
    # every line keeps its own due date
    assert lines(pos[0]) == [
        ("RIM", Decimal(3), day(7)), ("SADDLE", Decimal(4), day(8)), ("RIM", Decimal(4), day(14)),
        ("RIM", Decimal(6), day(15)), ("SADDLE", Decimal(2), day(15)), ("SADDLE", Decimal(3), day(16)),
    ]
    assert lines(pos[1]) == [("FRAME", Decimal(3), day(8)), ("FRAME", Decimal(2), day(15)),
                             ("FRAME", Decimal(3), day(16))]
    after = await plan(gql)
    for key in bought:
        expected = pos[1] if key[0] == "FRAME" else pos[0]
        assert after[key]["status"] == "FIRMED"
        assert after[key]["firmedAs"] == {"__typename": "PurchaseOrder", "number": expected["number"]}
    async with sessionmaker() as s:
        firmed_lines = await s.scalar(
            select(func.count(func.distinct(PlannedOrder.purchase_order_line_id)))
            .where(PlannedOrder.status == "FIRMED")
        )
    assert firmed_lines == 9  # one line per planned order


async def test_merge_keeps_suppliers_apart(gql: Any, sessionmaker: Any, settings: Settings) -> None:
    await bike_shop(gql, sessionmaker, settings, orders=(("4", 10), ("2", 17)))
    by_key = await plan(gql)
    bought = [key for key in sorted(by_key) if key[0] in ("RIM", "SADDLE")]

    payload = await firm(gql, [by_key[key]["id"] for key in bought], merge=True)

    assert payload["errors"] == []
    assert [(po["supplier"]["name"], lines(po)) for po in payload["purchaseOrders"]] == [
        ("Rim Co", [("RIM", Decimal(3), day(7)), ("RIM", Decimal(4), day(14))]),
        ("Saddle Co", [("SADDLE", Decimal(4), day(8)), ("SADDLE", Decimal(2), day(15))]),
    ]


async def test_merge_joins_productions_due_within_seven_days(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await bike_shop(gql, sessionmaker, settings, orders=(("4", 10), ("2", 17), ("3", 18)))
    by_key = await plan(gql)
    made = [key for key in sorted(by_key) if key[0] in ("BIKE", "WHEEL")]
    assert made == [("BIKE", day(10)), ("BIKE", day(17)), ("BIKE", day(18)),
                    ("WHEEL", day(8)), ("WHEEL", day(15)), ("WHEEL", day(16))]
    before = await counts(sessionmaker)

    payload = await firm(gql, [by_key[key]["id"] for key in reversed(made)], merge=True)

    assert payload["errors"] == [] and payload["purchaseOrders"] == []
    wos = sorted(payload["workOrders"], key=lambda wo: (wo["item"]["sku"], wo["dueDate"]))
    # due on the earliest date of each group; 7 days apart still joins, 8 does not
    assert [(sku, qty, due) for sku, qty, _, due in map(work, wos)] == [
        ("BIKE", Decimal(6), day(10)), ("BIKE", Decimal(3), day(18)),
        ("WHEEL", Decimal(7), day(8)), ("WHEEL", Decimal(6), day(16)),
    ]
    assert [wo["startDate"] for wo in wos] == [day(8), day(16), day(7), day(15)]
    after = await plan(gql)
    into = {key: after[key]["firmedAs"]["number"] for key in made}
    assert into == {
        ("BIKE", day(10)): wos[0]["number"], ("BIKE", day(17)): wos[0]["number"],
        ("BIKE", day(18)): wos[1]["number"],
        ("WHEEL", day(8)): wos[2]["number"], ("WHEEL", day(15)): wos[2]["number"],
        ("WHEEL", day(16)): wos[3]["number"],
    }
    assert (await counts(sessionmaker))["WorkOrder"] == before["WorkOrder"] + 4


async def test_firming_a_firmed_order_changes_nothing(gql: Any, sessionmaker: Any, settings: Settings) -> None:
    await bike_shop(gql, sessionmaker, settings)
    by_key = await plan(gql)
    rim, saddle, bike = by_key["RIM", day(7)]["id"], by_key["SADDLE", day(8)]["id"], by_key["BIKE", day(10)]["id"]
    assert (await firm(gql, [rim]))["errors"] == []
    before = await counts(sessionmaker)

    payload = await firm(gql, [saddle, bike, rim], merge=True)

    assert payload["purchaseOrders"] == [] and payload["workOrders"] == []
    assert errors(payload) == [("INVALID_STATE", ("ids", "2"))]
    assert "RIM" in payload["errors"][0]["message"] and "FIRMED" in payload["errors"][0]["message"]
    assert await counts(sessionmaker) == before
    after = await plan(gql)
    assert [after["SADDLE", day(8)]["status"], after["BIKE", day(10)]["status"]] == ["PLANNED", "PLANNED"]


async def test_bad_ids_are_all_reported_and_change_nothing(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await bike_shop(gql, sessionmaker, settings, suppliers={"RIM": None})
    by_key = await plan(gql)
    rim, bike = by_key["RIM", day(7)]["id"], by_key["BIKE", day(10)]["id"]
    before = await counts(sessionmaker)

    assert errors(await firm(gql, [])) == [("INVALID", ("ids",))]
    item = to_global_id("Item", 1)
    assert errors(await firm(gql, [bike, "not-an-id", item])) == [
        ("INVALID", ("ids", "1")), ("NOT_FOUND", ("ids", "2")),
    ]
    unknown = to_global_id("PlannedOrder", 10**9)
    payload = await firm(gql, [bike, unknown, rim, bike], merge=True)
    reported = sorted(zip(errors(payload), (e["message"] for e in payload["errors"]), strict=True))
    assert [error for error, _ in reported] == [
        ("INVALID", ("ids", "2")), ("INVALID", ("ids", "3")), ("NOT_FOUND", ("ids", "1")),
    ]
    assert "RIM" in reported[0][1] and "supplier" in reported[0][1]
    assert "repeats ids[0]" in reported[1][1]

    assert await counts(sessionmaker) == before


async def test_a_new_run_plans_around_what_was_firmed(gql: Any, sessionmaker: Any, settings: Settings) -> None:
    await bike_shop(gql, sessionmaker, settings)
    by_key = await plan(gql)
    kept = [("BIKE", day(10)), ("WHEEL", day(8)), ("RIM", day(7)), ("SADDLE", day(8))]
    assert (await firm(gql, [by_key[key]["id"] for key in kept]))["errors"] == []

    await run_and_wait(gql, settings, startDate=str(TODAY), horizonDays=60)

    after = await planned(gql)
    # the firmed orders stay; the documents they became are supply, so only the frame is planned again
    firmed = sorted((o["item"]["sku"], o["dueDate"], o["id"]) for o in after if o["status"] == "FIRMED")
    assert firmed == sorted((*key, by_key[key]["id"]) for key in kept)
    fresh = [o for o in after if o["status"] == "PLANNED"]
    assert [(o["item"]["sku"], o["kind"], Decimal(o["quantity"]), o["dueDate"]) for o in fresh] == [
        ("FRAME", "SUBCONTRACT", Decimal(3), day(8)),
    ]
    assert fresh[0]["id"] != by_key["FRAME", day(8)]["id"]  # the new run's
    assert await pegging_orphans(sessionmaker) == 0


async def test_two_concurrent_firms_of_one_order_firm_it_once(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await bike_shop(gql, sessionmaker, settings)
    by_key = await plan(gql)
    ids = [by_key["RIM", day(7)]["id"], by_key["BIKE", day(10)]["id"]]

    first, second = await asyncio.gather(firm(gql, ids), firm(gql, ids))

    outcomes = sorted([errors(first), errors(second)])
    assert outcomes == [[], [("INVALID_STATE", ("ids", "0")), ("INVALID_STATE", ("ids", "1"))]]
    rows = await counts(sessionmaker)
    assert (rows["PurchaseOrder"], rows["WorkOrder"]) == (1, 1)


async def test_firming_needs_planning_write(gql: Any, sessionmaker: Any, settings: Settings, make_token: Any) -> None:
    await bike_shop(gql, sessionmaker, settings)
    by_key = await plan(gql)
    rim = by_key["RIM", day(7)]["id"]
    sales, planner = await make_token("sales"), await make_token("planner")
    before = await counts(sessionmaker)

    refused = await firm(gql, [rim], token=sales)

    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert await counts(sessionmaker) == before
    allowed = await firm(gql, [rim], token=planner)
    assert allowed["errors"] == [] and len(allowed["purchaseOrders"]) == 1


async def test_default_supplier_is_a_known_active_supplier(gql: Any, sessionmaker: Any) -> None:
    query = CREATE_ITEM.replace("item { id sku }", "item { sku defaultSupplier { code name } }")
    base = {"name": "Bolt", "kind": "RAW_MATERIAL", "procurement": "BUY"}
    acme = await create_supplier(gql, "ACME", "Acme Parts")
    made = await gql(query, {"input": base | {"sku": "B1", "defaultSupplierId": acme}})
    assert made["data"]["createItem"]["item"] == {
        "sku": "B1", "defaultSupplier": {"code": "ACME", "name": "Acme Parts"}}
    none = await gql(query, {"input": base | {"sku": "B2"}})
    assert none["data"]["createItem"]["item"] == {"sku": "B2", "defaultSupplier": None}
    old = await create_supplier(gql, "OLD", "Old Parts")
    deactivated = await gql(UPDATE_SUPPLIER, {"id": old, "input": {"active": False}})
    assert deactivated["data"]["updateSupplier"]["errors"] == []
    before = await snapshot_table(sessionmaker, "items")
    for supplier, code in (("garbage", "INVALID"), (to_global_id("Supplier", 999), "NOT_FOUND"),
                           (to_global_id("Customer", 1), "NOT_FOUND"), (old, "INVALID_STATE")):
        refused = await gql(query, {"input": base | {"sku": "B3", "defaultSupplierId": supplier}})
        assert errors(refused["data"]["createItem"]) == [(code, ("defaultSupplierId",))], supplier
    assert await snapshot_table(sessionmaker, "items") == before


async def test_an_inactive_default_supplier_is_refused_at_firming(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    await bike_shop(gql, sessionmaker, settings)
    rim = (await plan(gql))["RIM", day(7)]["id"]
    rim_co = await create_supplier(gql, "RIM-CO", reuse=True)
    assert (await gql(UPDATE_SUPPLIER, {"id": rim_co, "input": {"active": False}}))["data"]["updateSupplier"][
        "errors"] == []
    before = await counts(sessionmaker)
    payload = await firm(gql, [rim])
    assert errors(payload) == [("INVALID_STATE", ("ids", "0"))]
    assert "RIM-CO" in payload["errors"][0]["message"] and "inactive" in payload["errors"][0]["message"]
    assert await counts(sessionmaker) == before


async def test_firming_rows_an_mrp_save_holds_is_refused_not_hung(
    gql: Any, sessionmaker: Any, settings: Settings, monkeypatch: Any
) -> None:
    import asyncpg

    from domain.planning import firming
    from domain.shared.db import asyncpg_dsn

    await bike_shop(gql, sessionmaker, settings)
    by_key = await plan(gql)
    rim = by_key["RIM", day(7)]["id"]
    monkeypatch.setattr(firming, "LOCK_WAIT_MS", 300)
    assert settings.database_url is not None
    save = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:  # as a running MRP save does: the previous plan's rows are locked until it commits
        await save.execute("BEGIN")
        await save.execute("DELETE FROM planned_orders WHERE id = $1", pk(rim))
        before = await counts(sessionmaker)
        refused = await asyncio.wait_for(firm(gql, [rim]), 10)
        assert errors(refused) == [("CONFLICT", ("ids",))]
        assert await counts(sessionmaker) == before
    finally:
        await save.execute("ROLLBACK")
        await save.close()
    allowed = await firm(gql, [rim])  # once the save is gone, firming works as before
    assert allowed["errors"] == [] and len(allowed["purchaseOrders"]) == 1
