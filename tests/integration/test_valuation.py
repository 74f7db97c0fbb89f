"""Moving-average valuation through the graph: every on-hand movement is valued on the ledger."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from api.relay import from_global_id
from domain.inventory.models import ItemValuation, StockMove
from tests.integration.helpers import add_warehouse, create_item
from tests.integration.sales_helpers import ledger_consistent
from tests.integration.test_purchasing import create_po, receive

D = Decimal
ADJUST = """
mutation($input: StockAdjustmentInput!) {
  adjustStock(input: $input) { stock { onHand } errors { code field message } }
}"""
TRANSFER = """
mutation($input: StockTransferInput!) {
  transferStock(input: $input) { errors { code field message } }
}"""
COSTS = "query($id: ID!) { node(id: $id) { ... on Item { onHand averageCost stockValue standardCost } } }"


@pytest.fixture(autouse=True)
async def main_warehouse(gql: Any) -> str:
    return await add_warehouse(gql, "MAIN", default=True)


async def adjust(gql: Any, item: str, quantity: str, unit_cost: str | None = None) -> None:
    body = await gql(ADJUST, {"input": {"itemId": item, "quantity": quantity, "unitCost": unit_cost,
                                        "reason": "count"}})
    assert body["data"]["adjustStock"]["errors"] == [], body


async def ledger(sessionmaker: Any, item: str) -> list[tuple[str, Decimal, Decimal | None, Decimal | None]]:
    async with sessionmaker() as s:
        rows = await s.execute(
            select(StockMove.kind, StockMove.quantity_on_hand, StockMove.unit_cost, StockMove.value)
            .where(StockMove.item_id == int(from_global_id(item)[1])).order_by(StockMove.id)
        )
        return [(r.kind, r.quantity_on_hand, r.unit_cost, r.value) for r in rows]


async def test_receipt_issue_receipt_values_history_once(gql: Any, sessionmaker: Any, main_warehouse: str) -> None:
    """10 counted in at 5.00 (V 50.00); 4 counted out at 5 (-20.00, V 30.00); a purchase
    receipt of 6 at 8.00: c = (30 + 48) / 12 = 6.5, V 78.00; a transfer of 3 leaves and
    arrives at 6.5 (-19.50 / +19.50) and changes neither. The rows written before the
    receipt keep their values: history is never revalued by a later receipt."""
    item = await create_item(gql, "VAL-1")
    overflow = await add_warehouse(gql, "VAL-OVERFLOW")
    await adjust(gql, item, "10", "5.00")
    await adjust(gql, item, "-4")
    po = await create_po(gql, [{"itemId": item, "quantity": "6", "unitCost": "8.00", "dueDate": "2030-01-01"}])
    assert po["errors"] == [], po
    assert (await receive(gql, po["purchaseOrder"]["id"]))["errors"] == []
    body = await gql(TRANSFER, {"input": {"itemId": item, "quantity": "3", "toWarehouseId": overflow,
                                          "fromWarehouseId": main_warehouse, "reason": "space"}})
    assert body["data"]["transferStock"]["errors"] == [], body

    node = (await gql(COSTS, {"id": item}))["data"]["node"]
    assert (node["onHand"], node["averageCost"], node["stockValue"]) == ("12.00", "6.50", "78.00")
    assert await ledger(sessionmaker, item) == [
        ("ADJUSTMENT", D(10), D(5), D(50)),
        ("ADJUSTMENT", D(-4), D(5), D(-20)),
        ("RECEIPT", D(6), D(8), D(48)),
        ("TRANSFER_OUT", D(-3), D("6.5"), D("-19.5")),
        ("TRANSFER_IN", D(3), D("6.5"), D("19.5")),
    ]
    await ledger_consistent(sessionmaker)


async def test_empty_stock_restarts_at_the_next_cost_and_free_stock_dilutes(gql: Any, sessionmaker: Any) -> None:
    """5 in at 4.00, 5 out (the last unit takes all 20.00: V 0); 2 in at 9.00 onto Q 0:
    c = 9, not a blend with the emptied stock. Then 2 in at 0.00: c = 18 / 4 = 4.5.
    A count without a cost comes in at the average (4.5) and leaves it alone."""
    item = await create_item(gql, "VAL-2", standardCost="3.00")
    await adjust(gql, item, "5", "4.00")
    await adjust(gql, item, "-5")
    await adjust(gql, item, "2", "9.00")
    await adjust(gql, item, "2", "0")
    await adjust(gql, item, "1")
    node = (await gql(COSTS, {"id": item}))["data"]["node"]
    assert (node["averageCost"], node["stockValue"]) == ("4.50", "22.50")
    assert [row[3] for row in await ledger(sessionmaker, item)] == [D(20), D(-20), D(18), D(0), D("4.5")]
    await ledger_consistent(sessionmaker)


async def test_without_history_a_receipt_comes_in_at_standard_cost(gql: Any, sessionmaker: Any) -> None:
    item = await create_item(gql, "VAL-3", standardCost="2.50")
    await adjust(gql, item, "4")
    node = (await gql(COSTS, {"id": item}))["data"]["node"]
    assert (node["averageCost"], node["stockValue"]) == ("2.50", "10.00")


async def test_costs_are_hidden_without_costing_read(gql: Any, make_token: Any) -> None:
    item = await create_item(gql, "VAL-4")
    await adjust(gql, item, "4", "1.25")
    sales = await make_token("sales")
    node = (await gql(COSTS, {"id": item}, token=sales))["data"]["node"]
    assert node == {"onHand": "4.00", "averageCost": None, "stockValue": None, "standardCost": None}


async def test_concurrent_receipts_and_issues_keep_value_and_ledger_equal(gql: Any, sessionmaker: Any) -> None:
    """Twenty counts in and out at once, at different costs: they queue on the item's
    valuation row, and the stock value is still the sum of the ledger values."""
    item = await create_item(gql, "VAL-5")
    await adjust(gql, item, "100", "1.00")
    await asyncio.gather(*(
        adjust(gql, item, "3", f"{1 + n / 10:.2f}") if n % 2 else adjust(gql, item, "-2")
        for n in range(20)
    ))
    await ledger_consistent(sessionmaker)
    async with sessionmaker() as s:
        valuation = await s.get(ItemValuation, int(from_global_id(item)[1]))
        assert valuation is not None and valuation.quantity == 110
        # the journal has no gap: every on-hand row carries a value
        unvalued = "SELECT count(*) FROM stock_moves WHERE quantity_on_hand <> 0 AND value IS NULL"
        assert await s.scalar(text(unvalued)) == 0
