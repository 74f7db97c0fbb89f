"""Suppliers as parties: create, update (versions, active), list, node, and purchase orders naming them."""

from __future__ import annotations

import asyncio
from typing import Any

from api.relay import to_global_id
from tests.integration.helpers import CREATE_SUPPLIER, create_item, create_supplier, snapshot_table

ERRORS = "errors { code field message }"
SUPPLIER = ("id code name email phone paymentTermsDays active version contacts { name email title }"
            " externalRefs { system }")
CREATE = ("mutation($input: SupplierInput!) { createSupplier(input: $input) { supplier { " + SUPPLIER + " } "
          + ERRORS + " } }")
UPDATE = ("mutation($id: ID!, $input: SupplierUpdateInput!) { updateSupplier(id: $id, input: $input) {"
          " supplier { " + SUPPLIER + " } " + ERRORS + " } }")
LIST = ("query($first: Int, $after: String, $search: String) { suppliers(first: $first, after: $after,"
        " search: $search) { totalCount edges { node { code } } pageInfo { hasNextPage endCursor } } }")
CREATE_PO = ("mutation($input: PurchaseOrderInput!) { createPurchaseOrder(input: $input) {"
             " purchaseOrder { supplier { code } } " + ERRORS + " } }")


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def create(gql: Any, token: str | None = None, **fields: Any) -> dict[str, Any]:
    body = await gql(CREATE, {"input": {"code": "ACME", "name": "Acme Parts"} | fields}, token=token)
    return dict(body["data"]["createSupplier"])


async def update(gql: Any, supplier_id: str, token: str | None = None, **fields: Any) -> dict[str, Any]:
    body = await gql(UPDATE, {"id": supplier_id, "input": fields}, token=token)
    return dict(body["data"]["updateSupplier"])


async def test_create_then_read_through_node_and_list(gql) -> None:
    payload = await create(gql, code=" ACME ", email="sales@acme.example", phone="+49 1", paymentTermsDays=45,
                           contacts=[{"name": " Ada ", "email": "ada@acme.example", "title": "Sales"}])
    assert payload["errors"] == []
    supplier = payload["supplier"]
    assert {k: supplier[k] for k in ("code", "name", "email", "paymentTermsDays", "active", "version")} == {
        "code": "ACME", "name": "Acme Parts", "email": "sales@acme.example", "paymentTermsDays": 45,
        "active": True, "version": 1,
    }
    assert supplier["contacts"] == [{"name": "Ada", "email": "ada@acme.example", "title": "Sales"}]
    assert supplier["externalRefs"] == []
    node = (await gql("query($id: ID!) { node(id: $id) { ... on Supplier { code contacts { name } } } }",
                      {"id": supplier["id"]}))["data"]["node"]
    assert node == {"code": "ACME", "contacts": [{"name": "Ada"}]}
    default_terms = await create(gql, code="B2", name="Bolts & Co")
    assert default_terms["supplier"]["paymentTermsDays"] == 30


async def test_suppliers_search_and_pages(gql) -> None:
    for code, name in (("ACME", "Acme Parts"), ("BOLT", "Bolt Works"), ("NUTS", "Acme Nuts"), ("X1", "Other")):
        await create_supplier(gql, code, name)
    first = (await gql(LIST, {"first": 2}))["data"]["suppliers"]
    assert first["totalCount"] == 4 and [e["node"]["code"] for e in first["edges"]] == ["ACME", "BOLT"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await gql(LIST, {"first": 5, "after": first["pageInfo"]["endCursor"]}))["data"]["suppliers"]
    assert [e["node"]["code"] for e in rest["edges"]] == ["NUTS", "X1"] and rest["pageInfo"]["hasNextPage"] is False
    found = (await gql(LIST, {"search": "acme"}))["data"]["suppliers"]
    assert found["totalCount"] == 2 and [e["node"]["code"] for e in found["edges"]] == ["ACME", "NUTS"]
    by_code = (await gql(LIST, {"search": "bol"}))["data"]["suppliers"]
    assert [e["node"]["code"] for e in by_code["edges"]] == ["BOLT"]
    assert (await gql(LIST, {"search": "%"}))["data"]["suppliers"]["totalCount"] == 0


async def test_bad_input_and_duplicates_change_nothing(gql, sessionmaker) -> None:
    await create_supplier(gql, "ACME")
    before = await snapshot_table(sessionmaker, "suppliers", "contacts")
    cases: list[tuple[dict[str, Any], list[tuple[str, list[str] | None]]]] = [
        ({"code": "ACME"}, [("DUPLICATE", ["code"])]),
        ({"code": "bad code"}, [("INVALID", ["code"])]),
        ({"code": "x" * 41}, [("INVALID", ["code"])]),
        ({"code": "N1", "name": " "}, [("INVALID", ["name"])]),
        ({"code": "N1", "email": "nope"}, [("INVALID", ["email"])]),
        ({"code": "N1", "paymentTermsDays": -1}, [("INVALID", ["paymentTermsDays"])]),
        ({"code": "N1", "paymentTermsDays": 366}, [("INVALID", ["paymentTermsDays"])]),
        ({"code": "N1", "contacts": [{"name": "A"}, {"name": "B", "email": "x"}]},
         [("INVALID", ["contacts", "1", "email"])]),
    ]
    for fields, expected in cases:
        payload = await create(gql, **fields)
        assert payload["supplier"] is None and errors(payload) == expected, fields
    assert await snapshot_table(sessionmaker, "suppliers", "contacts") == before


async def test_parallel_creates_of_one_code_all_but_one_lose_with_duplicate(gql, sessionmaker) -> None:
    bodies = await asyncio.gather(*(
        gql(CREATE_SUPPLIER, {"input": {"code": "SAME", "name": f"Supplier {i}"}}) for i in range(8)
    ))
    payloads = [body["data"]["createSupplier"] for body in bodies]
    assert sum(p["errors"] == [] for p in payloads) == 1
    assert sorted(errors(p) for p in payloads if p["errors"]) == [[("DUPLICATE", ["code"])]] * 7
    assert len((await snapshot_table(sessionmaker, "suppliers"))["suppliers"]) == 1


async def test_update_changes_the_fields_given_and_raises_the_version(gql, sessionmaker) -> None:
    supplier = (await create(gql, email="a@acme.example", phone="1"))["supplier"]
    payload = await update(gql, supplier["id"], name=" Acme Holding ", phone=None, expectedVersion=1)
    assert payload["errors"] == []
    changed = payload["supplier"]
    assert (changed["name"], changed["email"], changed["phone"], changed["version"]) == (
        "Acme Holding", "a@acme.example", None, 2)
    # stale version: CONFLICT, nothing written
    before = await snapshot_table(sessionmaker, "suppliers")
    stale = await update(gql, supplier["id"], name="Late", expectedVersion=1)
    assert stale["supplier"] is None and errors(stale) == [("CONFLICT", ["expectedVersion"])]
    for fields, expected in (
        ({"name": None}, ("INVALID", ["name"])),
        ({"active": None}, ("INVALID", ["active"])),
        ({"email": "nope"}, ("INVALID", ["email"])),
        ({"paymentTermsDays": 400}, ("INVALID", ["paymentTermsDays"])),
    ):
        refused = await update(gql, supplier["id"], **fields)
        assert errors(refused) == [expected], fields
    for bad_id, code in (("garbage", "INVALID"), (to_global_id("Supplier", 999), "NOT_FOUND"),
                         (to_global_id("Customer", 1), "NOT_FOUND")):
        assert errors(await update(gql, bad_id, name="X")) == [(code, ["id"])], bad_id
    assert await snapshot_table(sessionmaker, "suppliers") == before
    # the way back: deactivate, then activate again
    off = await update(gql, supplier["id"], active=False, expectedVersion=2)
    assert (off["supplier"]["active"], off["supplier"]["version"]) == (False, 3)
    on = await update(gql, supplier["id"], active=True)
    assert (on["supplier"]["active"], on["supplier"]["version"]) == (True, 4)


async def test_inactive_supplier_takes_no_new_purchase_order(gql, sessionmaker) -> None:
    supplier = await create_supplier(gql, "ACME")
    item = await create_item(gql, "BOLT")
    po = {"supplierId": supplier, "lines": [{"itemId": item, "quantity": "1", "dueDate": "2030-01-01"}]}
    assert (await gql(CREATE_PO, {"input": po}))["data"]["createPurchaseOrder"]["errors"] == []
    assert (await update(gql, supplier, active=False))["errors"] == []
    before = await snapshot_table(sessionmaker, "purchase_orders", "purchase_order_lines")
    refused = (await gql(CREATE_PO, {"input": po}))["data"]["createPurchaseOrder"]
    assert refused["purchaseOrder"] is None and errors(refused) == [("INVALID_STATE", ["supplierId"])]
    assert "inactive" in refused["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, "purchase_orders", "purchase_order_lines") == before
    assert (await update(gql, supplier, active=True))["errors"] == []
    again = (await gql(CREATE_PO, {"input": po}))["data"]["createPurchaseOrder"]
    assert again["errors"] == [] and again["purchaseOrder"]["supplier"] == {"code": "ACME"}


async def test_suppliers_need_the_purchasing_scopes(gql, sessionmaker, make_token) -> None:
    supplier = await create_supplier(gql, "ACME")
    sales = await make_token("sales")
    before = await snapshot_table(sessionmaker, "suppliers")
    assert errors(await create(gql, token=sales, code="NEW")) == [("FORBIDDEN", None)]
    assert errors(await update(gql, supplier, token=sales, name="X")) == [("FORBIDDEN", None)]
    assert await snapshot_table(sessionmaker, "suppliers") == before
    listed = await gql(LIST, {}, token=sales, expect_errors=True)
    assert listed["data"] is None and "FORBIDDEN" in listed["errors"][0]["message"]
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": supplier}, token=sales)
    assert node["data"]["node"] is None
    # an item's default supplier is purchasing's too: null for the sales role
    item = await create_item(gql, "BOLT", defaultSupplierId=supplier)
    read = "query($id: ID!) { node(id: $id) { ... on Item { sku defaultSupplier { code } } } }"
    assert (await gql(read, {"id": item}, token=sales))["data"]["node"] == {"sku": "BOLT", "defaultSupplier": None}
    assert (await gql(read, {"id": item}))["data"]["node"] == {"sku": "BOLT", "defaultSupplier": {"code": "ACME"}}
    planner = await make_token("planner")
    assert (await create(gql, token=planner, code="PLAN"))["errors"] == []
    assert (await gql(LIST, {}, token=planner))["data"]["suppliers"]["totalCount"] == 2


async def test_twenty_parallel_updates_of_one_version_exactly_one_wins(gql) -> None:
    supplier = (await create(gql))["supplier"]
    results = await asyncio.gather(*(
        update(gql, supplier["id"], name=f"Acme {i}", expectedVersion=1) for i in range(20)
    ))
    winners = [p for p in results if not p["errors"]]
    assert len(winners) == 1 and winners[0]["supplier"]["version"] == 2
    assert {e["code"] for p in results for e in p["errors"]} == {"CONFLICT"}
    assert (await update(gql, supplier["id"]))["supplier"]["name"] == winners[0]["supplier"]["name"]
