"""transferStock: free stock moves between warehouses as two ledger moves in one transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from api.relay import to_global_id
from domain.inventory.models import StockMove
from domain.shared.events import DomainEvent
from tests.integration.helpers import add_warehouse, adjust, create_item, snapshot_table
from tests.integration.sales_helpers import confirm, create_customer, draft, ledger_consistent, pk

LEVEL = "onHand reserved available warehouse { code } item { sku }"
TRANSFER = (
    "mutation($input: StockTransferInput!) { transferStock(input: $input) {"
    " from { " + LEVEL + " } to { " + LEVEL + " } errors { code field message } } }"
)
TABLES = ("stock_balances", "stock_moves")


@pytest.fixture
async def world(gql: Any) -> dict[str, str]:
    ids = {
        "main": await add_warehouse(gql, "MAIN", default=True),
        "east": await add_warehouse(gql, "EAST"),
        "item": await create_item(gql, "BOLT"),
    }
    assert (await adjust(gql, ids["item"], "10", ids["main"]))["errors"] == []
    return ids


async def transfer(
    gql: Any, world: dict[str, str], quantity: str, source: str = "main", destination: str = "east",
    token: str | None = None, **overrides: Any,
) -> dict[str, Any]:
    values = {"itemId": world["item"], "fromWarehouseId": world[source], "toWarehouseId": world[destination],
              "quantity": quantity, "reason": "rebalance"} | overrides
    return dict((await gql(TRANSFER, {"input": values}, token=token))["data"]["transferStock"])


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


def level(stock: dict[str, Any]) -> tuple[str, str, str, str]:
    return stock["warehouse"]["code"], stock["onHand"], stock["reserved"], stock["available"]


async def test_transfer_and_back(gql: Any, sessionmaker: Any, world: dict[str, str]) -> None:
    moved = await transfer(gql, world, "4")
    assert moved["errors"] == []
    assert level(moved["from"]) == ("MAIN", "6.00", "0.00", "6.00")
    assert level(moved["to"]) == ("EAST", "4.00", "0.00", "4.00")
    assert moved["from"]["item"]["sku"] == moved["to"]["item"]["sku"] == "BOLT"

    async with sessionmaker() as s:
        moves = (await s.execute(
            select(StockMove.warehouse_id, StockMove.kind, StockMove.quantity_on_hand, StockMove.quantity_reserved,
                   StockMove.reason, StockMove.reference_type, StockMove.reference_id, StockMove.actor)
            .where(StockMove.kind.like("TRANSFER%")).order_by(StockMove.id)
        )).all()
        events = (await s.execute(
            select(DomainEvent.type, DomainEvent.payload).where(DomainEvent.id > 0).order_by(DomainEvent.id)
        )).all()
    out, into = moves
    assert (out.warehouse_id, out.kind, out.quantity_on_hand, out.quantity_reserved) == (
        pk(world["main"]), "TRANSFER_OUT", -4, 0)
    assert (into.warehouse_id, into.kind, into.quantity_on_hand) == (pk(world["east"]), "TRANSFER_IN", 4)
    assert out.reason == into.reason == "rebalance"
    assert out.reference_type == into.reference_type == "StockTransfer"
    assert out.reference_id == into.reference_id is not None
    assert out.actor == into.actor == "test-admin"
    transferred, freed = events[-2:]
    assert transferred.type == "stock.transferred" and transferred.payload == {
        "transfer": out.reference_id, "fromWarehouseId": pk(world["main"]),
        "toWarehouseId": pk(world["east"]), "quantity": "4"}
    # stock became free in EAST: waiting backorders may take it
    assert freed.type == "stock.freed" and freed.payload == {
        "itemIds": [pk(world["item"])], "source": "transfer to EAST (rebalance)"}

    back = await transfer(gql, world, "4", source="east", destination="main", reason="  back  ")
    assert back["errors"] == []
    assert level(back["from"]) == ("EAST", "0.00", "0.00", "0.00")
    assert level(back["to"]) == ("MAIN", "10.00", "0.00", "10.00")
    async with sessionmaker() as s:
        references = (await s.execute(
            select(StockMove.reference_id, StockMove.reason).where(StockMove.kind.like("TRANSFER%"))
            .order_by(StockMove.id)
        )).all()
    assert references[2].reference_id == references[3].reference_id != out.reference_id
    assert references[2].reason == "back"
    await ledger_consistent(sessionmaker)


async def test_reserved_stock_stays(gql: Any, sessionmaker: Any, world: dict[str, str]) -> None:
    customer = await create_customer(gql, "ACME", credit_limit="100000")
    order = await draft(gql, customer, world["item"], "8")
    assert (await confirm(gql, order))["errors"] == []  # reserves 8 of MAIN's 10
    before = await snapshot_table(sessionmaker, *TABLES)
    refused = await transfer(gql, world, "3")
    assert errors(refused) == [("INSUFFICIENT_STOCK", ["quantity"])]
    assert refused["errors"][0]["message"] == "only 2 free in MAIN (on hand less reserved)"
    assert refused["from"] is None and refused["to"] is None
    assert await snapshot_table(sessionmaker, *TABLES) == before

    moved = await transfer(gql, world, "2")
    assert level(moved["from"]) == ("MAIN", "8.00", "8.00", "0.00")
    assert level(moved["to"]) == ("EAST", "2.00", "0.00", "2.00")
    assert errors(await transfer(gql, world, "2.5", source="east", destination="main")) == [
        ("INSUFFICIENT_STOCK", ["quantity"])]
    await ledger_consistent(sessionmaker)


async def test_bad_input_changes_nothing(
    gql: Any, sessionmaker: Any, make_token: Any, world: dict[str, str]
) -> None:
    sales = await make_token("sales")
    before = await snapshot_table(sessionmaker, *TABLES)
    cases: list[tuple[dict[str, Any], list[tuple[str, list[str] | None]]]] = [
        ({"destination": "main"}, [("INVALID", ["toWarehouseId"])]),
        ({"quantity": "0"}, [("INVALID", ["quantity"])]),
        ({"quantity": "-1"}, [("INVALID", ["quantity"])]),
        ({"quantity": "1.0000001"}, [("INVALID", ["quantity"])]),
        ({"quantity": "11"}, [("INSUFFICIENT_STOCK", ["quantity"])]),
        ({"source": "east", "destination": "main"}, [("INSUFFICIENT_STOCK", ["quantity"])]),  # none there
        ({"reason": " "}, [("INVALID", ["reason"])]),
        ({"itemId": "garbage!"}, [("INVALID", ["itemId"])]),
        ({"itemId": world["main"]}, [("NOT_FOUND", ["itemId"])]),
        ({"itemId": to_global_id("Item", 999_999)}, [("NOT_FOUND", ["itemId"])]),
        ({"fromWarehouseId": world["item"]}, [("NOT_FOUND", ["fromWarehouseId"])]),
        ({"toWarehouseId": to_global_id("Warehouse", 999_999)}, [("NOT_FOUND", ["toWarehouseId"])]),
        ({"token": sales}, [("FORBIDDEN", None)]),
    ]
    for case, expected in cases:
        quantity = case.pop("quantity", "1")
        payload = await transfer(gql, world, quantity, **case)
        assert errors(payload) == expected, (case, payload)
        assert payload["from"] is None and payload["to"] is None
    assert await snapshot_table(sessionmaker, *TABLES) == before


async def test_parallel_transfers_never_move_more_than_is_free(
    gql: Any, sessionmaker: Any, world: dict[str, str]
) -> None:
    results = await asyncio.gather(*(transfer(gql, world, "3") for _ in range(8)))
    moved = [r for r in results if not r["errors"]]
    assert len(moved) == 3
    assert all(errors(r) == [("INSUFFICIENT_STOCK", ["quantity"])] for r in results if r["errors"])
    assert sorted(r["to"]["onHand"] for r in moved) == ["3.00", "6.00", "9.00"]
    # and both ways at the same time (each side holds more than its five moves take, in any
    # order): every move is under the item's balance locks, so none deadlocks or fails
    both = await asyncio.gather(*(
        transfer(gql, world, "0.1", *(("main", "east") if i % 2 else ("east", "main"))) for i in range(10)
    ))
    assert all(r["errors"] == [] for r in both)
    await ledger_consistent(sessionmaker)
    stock = (await gql("query($id: ID!) { node(id: $id) { ... on Item { stock { " + LEVEL + " } } } }",
                       {"id": world["item"]}))["data"]["node"]["stock"]
    assert sorted(level(s) for s in stock) == [("EAST", "9.00", "0.00", "9.00"), ("MAIN", "1.00", "0.00", "1.00")]
