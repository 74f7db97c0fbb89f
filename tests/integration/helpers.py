"""Small builders shared by the integration tests."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

CREATE_ITEM = """
mutation($input: ItemInput!) {
  createItem(input: $input) { item { id sku } errors { code field message } }
}"""

SET_BOM = """
mutation($itemId: ID!, $input: BomInput!) {
  setBom(itemId: $itemId, input: $input) {
    item { id sku bom { outputQuantity lines { component { sku } quantity scrapRate } } }
    errors { code field message }
  }
}"""

ADJUST = """
mutation($input: StockAdjustmentInput!) {
  adjustStock(input: $input) {
    stock { onHand reserved available item { sku } warehouse { code } }
    errors { code field message }
  }
}"""


CREATE_SUPPLIER = """
mutation($input: SupplierInput!) {
  createSupplier(input: $input) { supplier { id code name version } errors { code field message } }
}"""

SUPPLIER_BY_CODE = "query($code: String!) { suppliers(first: 5, search: $code) { edges { node { id code } } } }"


async def create_supplier(gql: Any, code: str = "ACME-PARTS", name: str | None = None, *,
                          reuse: bool = False, **fields: Any) -> str:
    """A supplier's global id; ``reuse``: the one of that code if it exists already."""
    if reuse:
        found = await gql(SUPPLIER_BY_CODE, {"code": code})
        for edge in found["data"]["suppliers"]["edges"]:
            if edge["node"]["code"] == code:
                return str(edge["node"]["id"])
    body = await gql(CREATE_SUPPLIER, {"input": {"code": code, "name": name or f"Supplier {code}"} | fields})
    assert body["data"]["createSupplier"]["errors"] == [], body
    return str(body["data"]["createSupplier"]["supplier"]["id"])


async def create_item(gql: Any, sku: str, **fields: Any) -> str:
    payload = {"sku": sku, "name": f"Item {sku}", "kind": "RAW_MATERIAL", "procurement": "BUY"} | fields
    body = await gql(CREATE_ITEM, {"input": payload})
    assert body["data"]["createItem"]["errors"] == [], body
    return str(body["data"]["createItem"]["item"]["id"])


async def set_bom(gql: Any, item_id: str, components: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    lines = [{"componentId": cid, "quantity": qty} for cid, qty in components]
    body = await gql(SET_BOM, {"itemId": item_id, "input": {"lines": lines} | extra})
    return dict(body["data"]["setBom"])


async def create_warehouse(sessionmaker: Any, code: str, default: bool = False) -> str:
    from api.relay import to_global_id
    from domain.inventory.services import create_warehouse as create

    async with sessionmaker.begin() as session:
        warehouse = await create(session, code, f"Warehouse {code}", is_default=default)
    return to_global_id("Warehouse", warehouse.id)


CREATE_WAREHOUSE = """
mutation($input: WarehouseInput!) {
  createWarehouse(input: $input) { warehouse { id code name isDefault version } errors { code field message } }
}"""


async def add_warehouse(gql: Any, code: str, default: bool = False, token: str | None = None) -> str:
    """A warehouse created through the API (``create_warehouse`` writes it directly)."""
    body = await gql(CREATE_WAREHOUSE, {"input": {"code": code, "name": f"Warehouse {code}", "isDefault": default}},
                     token=token)
    assert body["data"]["createWarehouse"]["errors"] == [], body
    return str(body["data"]["createWarehouse"]["warehouse"]["id"])


async def adjust(gql: Any, item_id: str, quantity: str, warehouse_id: str | None = None,
                 reason: str = "count") -> dict[str, Any]:
    variables = {"input": {"itemId": item_id, "quantity": quantity, "reason": reason,
                           "warehouseId": warehouse_id}}
    return dict((await gql(ADJUST, variables))["data"]["adjustStock"])


async def graphql_ws(live_server: str, token: str) -> Any:
    """A graphql-transport-ws connection to ``live_server``, initialised with ``token``."""
    import websockets

    ws = await websockets.connect(live_server.replace("http", "ws") + "/graphql",
                                  subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def snapshot_table(sessionmaker: Any, *tables: str) -> dict[str, list[Any]]:
    """Every row of ``tables`` and the number of events: equal before and after a refused command."""
    async with sessionmaker() as session:
        found: dict[str, list[Any]] = {
            table: [tuple(row) for row in (await session.execute(text(f"SELECT * FROM {table} ORDER BY 1")))]
            for table in tables
        }
        found["events"] = [await session.scalar(text("SELECT count(*) FROM domain_events"))]
    return found
