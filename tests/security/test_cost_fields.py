"""Cost fields: read only with costing:read, a unit cost set on adjustStock only with costing:write."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.integration.helpers import create_item, create_warehouse, snapshot_table
from tests.integration.test_purchasing import create_po

TODAY = str(date.today())
PO_COST = "query($id: ID!) { node(id: $id) { ... on PurchaseOrder { lines { quantity unitCost } } } }"
ADJUST = (
    "mutation($input: StockAdjustmentInput!) { adjustStock(input: $input) {"
    " stock { onHand } errors { code field message } } }"
)


async def _po(gql: Any, sessionmaker: Any) -> str:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    bolt = await create_item(gql, "BOLT")
    payload = await create_po(gql, [{"itemId": bolt, "quantity": "10", "unitCost": "1.5", "dueDate": TODAY}])
    assert payload["errors"] == []
    return str(payload["purchaseOrder"]["id"])


async def test_purchase_order_unit_cost_needs_costing_read(gql, sessionmaker, make_token) -> None:
    po = await _po(gql, sessionmaker)
    seen = {}
    for role in ("admin", "production", "planner"):  # planner: purchasing:read, no costing:read
        body = await gql(PO_COST, {"id": po}, token=await make_token(role))
        seen[role] = body["data"]["node"]
    cost = seen["admin"]["lines"][0]["unitCost"]
    assert cost is not None and float(cost) == 1.5
    assert seen["production"] == seen["admin"]
    assert seen["planner"] == {"lines": [{"quantity": seen["admin"]["lines"][0]["quantity"], "unitCost": None}]}


async def test_planner_sets_a_purchase_cost_but_does_not_read_it_back(gql, sessionmaker, make_token) -> None:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    bolt = await create_item(gql, "BOLT")
    planner = await make_token("planner")
    payload = await create_po(gql, [{"itemId": bolt, "quantity": "3", "unitCost": "2", "dueDate": TODAY}],
                              token=planner)
    assert payload["errors"] == [] and payload["purchaseOrder"]["lines"][0]["unitCost"] is None
    admin_view = (await gql(PO_COST, {"id": payload["purchaseOrder"]["id"]}))["data"]["node"]
    assert admin_view["lines"][0]["unitCost"] is not None and admin_view["lines"][0]["unitCost"].startswith("2")


async def test_work_order_cost_is_declared_behind_costing_read() -> None:
    # the resolver takes info to check costing:read (tests/integration/test_work_order_costing.py
    # checks the values: null before costing and for a viewer without costing:read)
    import inspect

    from api.production.types import WorkOrder

    assert "info" in inspect.signature(WorkOrder.cost).parameters


async def test_adjust_stock_unit_cost_needs_costing_write(gql, sessionmaker, make_token) -> None:
    await create_warehouse(sessionmaker, "MAIN", default=True)
    bolt = await create_item(gql, "BOLT")
    production = await make_token("production")  # inventory:write and costing:read, not costing:write
    before = await snapshot_table(sessionmaker, "stock_balances", "stock_moves")
    body = await gql(ADJUST, {"input": {"itemId": bolt, "quantity": "5", "reason": "count", "unitCost": "3"}},
                     token=production)
    refused = body["data"]["adjustStock"]
    assert refused["stock"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("FORBIDDEN", ["unitCost"])]
    assert await snapshot_table(sessionmaker, "stock_balances", "stock_moves") == before
    # without a unit cost the same role adjusts; with costing:write (admin) the cost is accepted
    plain = await gql(ADJUST, {"input": {"itemId": bolt, "quantity": "5", "reason": "count"}}, token=production)
    assert plain["data"]["adjustStock"]["errors"] == []
    costed = await gql(ADJUST, {"input": {"itemId": bolt, "quantity": "5", "reason": "count", "unitCost": "3"}})
    assert costed["data"]["adjustStock"]["errors"] == []
    assert costed["data"]["adjustStock"]["stock"]["onHand"].startswith("10")
