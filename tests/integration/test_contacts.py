"""Contacts of customers and suppliers: add, update, remove; owner's version and scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.relay import to_global_id
from domain.shared.events import DomainEvent
from tests.integration.helpers import create_supplier, snapshot_table
from tests.integration.sales_helpers import create_customer, pk

ERRORS = "errors { code field message }"
CONTACT = "contact { id name email phone title }"
ADD = ("mutation($customerId: ID, $supplierId: ID, $input: ContactInput!) { addContact(customerId: $customerId,"
       " supplierId: $supplierId, input: $input) { " + CONTACT + " " + ERRORS + " } }")
UPDATE = ("mutation($id: ID!, $input: ContactUpdateInput!) { updateContact(id: $id, input: $input) { "
          + CONTACT + " " + ERRORS + " } }")
REMOVE = "mutation($id: ID!) { removeContact(id: $id) { " + CONTACT + " " + ERRORS + " } }"
OWNER = ("query($id: ID!) { node(id: $id) { ... on Customer { version contacts { name email } }"
         " ... on Supplier { version contacts { name email } } } }")


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def add(gql: Any, token: str | None = None, **variables: Any) -> dict[str, Any]:
    body = await gql(ADD, {"input": {"name": "Ada Lovelace"}} | variables, token=token)
    return dict(body["data"]["addContact"])


async def owner(gql: Any, owner_id: str) -> dict[str, Any]:
    return dict((await gql(OWNER, {"id": owner_id}))["data"]["node"])


async def events(sessionmaker: Any) -> list[tuple[str, dict[str, Any]]]:
    async with sessionmaker() as s:
        rows = await s.execute(select(DomainEvent.type, DomainEvent.payload)
                               .where(DomainEvent.type.like("contact.%")).order_by(DomainEvent.id))
        return [(t, p) for t, p in rows]


async def test_supplier_contact_lifecycle_raises_the_suppliers_version(gql, sessionmaker) -> None:
    supplier = await create_supplier(gql, "ACME")
    added = await add(gql, supplierId=supplier, input={"name": " Ada ", "email": "ada@acme.example", "title": "CEO"})
    assert added["errors"] == []
    contact = added["contact"]
    assert (contact["name"], contact["email"], contact["title"]) == ("Ada", "ada@acme.example", "CEO")
    assert await owner(gql, supplier) == {"version": 2, "contacts": [{"name": "Ada", "email": "ada@acme.example"}]}

    changed = (await gql(UPDATE, {"id": contact["id"], "input": {"email": None, "phone": "+49 1"}}))["data"][
        "updateContact"]
    assert changed["errors"] == []
    assert (changed["contact"]["name"], changed["contact"]["email"], changed["contact"]["phone"]) == (
        "Ada", None, "+49 1")
    assert (await owner(gql, supplier))["version"] == 3

    removed = (await gql(REMOVE, {"id": contact["id"]}))["data"]["removeContact"]
    assert removed["errors"] == [] and removed["contact"]["id"] == contact["id"]
    assert removed["contact"]["name"] == "Ada"
    assert await owner(gql, supplier) == {"version": 4, "contacts": []}
    gone = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": contact["id"]})
    assert gone["data"]["node"] is None
    supplier_pk = pk(supplier)
    assert [(t, p.get("supplierId")) for t, p in await events(sessionmaker)] == [
        ("contact.added", supplier_pk), ("contact.updated", supplier_pk), ("contact.removed", supplier_pk),
    ]


async def test_customer_contacts_and_stale_customer_updates(gql, sessionmaker) -> None:
    customer = await create_customer(gql, "CUST")
    added = await add(gql, customerId=customer)
    assert added["errors"] == [] and (await owner(gql, customer))["version"] == 2
    # a customer update made against the version before the contact change is stale
    stale = await gql(
        "mutation($id: ID!) { updateCustomer(id: $id, input: {name: \"X\", expectedVersion: 1}) {"
        " errors { code field } } }", {"id": customer},
    )
    assert stale["data"]["updateCustomer"]["errors"] == [{"code": "CONFLICT", "field": ["expectedVersion"]}]
    assert [(t, p.get("customerId")) for t, p in await events(sessionmaker)] == [("contact.added", pk(customer))]


async def test_refusals_change_nothing(gql, sessionmaker) -> None:
    customer = await create_customer(gql, "CUST")
    supplier = await create_supplier(gql, "ACME")
    contact = (await add(gql, supplierId=supplier))["contact"]
    before = await snapshot_table(sessionmaker, "contacts", "customers", "suppliers")
    cases: list[tuple[dict[str, Any], list[tuple[str, list[str] | None]]]] = [
        ({}, [("INVALID", ["customerId"])]),
        ({"customerId": customer, "supplierId": supplier}, [("INVALID", ["customerId"])]),
        ({"customerId": "garbage"}, [("INVALID", ["customerId"])]),
        ({"customerId": supplier}, [("NOT_FOUND", ["customerId"])]),
        ({"supplierId": to_global_id("Supplier", 999)}, [("NOT_FOUND", ["supplierId"])]),
        ({"supplierId": supplier, "input": {"name": " "}}, [("INVALID", ["name"])]),
        ({"supplierId": supplier, "input": {"name": "A", "email": "x"}}, [("INVALID", ["email"])]),
    ]
    for variables, expected in cases:
        payload = await add(gql, **variables)
        assert payload["contact"] is None and errors(payload) == expected, variables
    for contact_id, fields, expected in (
        (contact["id"], {"name": None}, [("INVALID", ["name"])]),
        (contact["id"], {"email": "bad"}, [("INVALID", ["email"])]),
        ("garbage", {"name": "X"}, [("INVALID", ["id"])]),
        (supplier, {"name": "X"}, [("NOT_FOUND", ["id"])]),
        (to_global_id("Contact", 999), {"name": "X"}, [("NOT_FOUND", ["id"])]),
    ):
        payload = (await gql(UPDATE, {"id": contact_id, "input": fields}))["data"]["updateContact"]
        assert errors(payload) == expected, (contact_id, fields)
    for contact_id, code in (("garbage", "INVALID"), (to_global_id("Contact", 999), "NOT_FOUND"),
                             (customer, "NOT_FOUND")):
        assert errors((await gql(REMOVE, {"id": contact_id}))["data"]["removeContact"]) == [(code, ["id"])]
    assert await snapshot_table(sessionmaker, "contacts", "customers", "suppliers") == before


async def test_the_owner_decides_the_scope(gql, sessionmaker, make_token) -> None:
    customer = await create_customer(gql, "CUST")
    supplier = await create_supplier(gql, "ACME")
    customer_contact = (await add(gql, customerId=customer))["contact"]
    supplier_contact = (await add(gql, supplierId=supplier))["contact"]
    sales, planner, finance = [await make_token(role) for role in ("sales", "planner", "finance")]
    before = await snapshot_table(sessionmaker, "contacts", "customers", "suppliers")
    # sales has crm:write only, the planner purchasing:write only, finance neither
    assert errors(await add(gql, token=sales, supplierId=supplier)) == [("FORBIDDEN", ["supplierId"])]
    assert errors(await add(gql, token=planner, customerId=customer)) == [("FORBIDDEN", ["customerId"])]
    assert errors(await add(gql, token=finance, customerId=customer)) == [("FORBIDDEN", None)]
    for token, contact in ((sales, supplier_contact), (planner, customer_contact)):
        updated = (await gql(UPDATE, {"id": contact["id"], "input": {"name": "X"}}, token=token))["data"]
        assert errors(updated["updateContact"]) == [("FORBIDDEN", ["id"])]
        removed = (await gql(REMOVE, {"id": contact["id"]}, token=token))["data"]
        assert errors(removed["removeContact"]) == [("FORBIDDEN", ["id"])]
    assert await snapshot_table(sessionmaker, "contacts", "customers", "suppliers") == before
    assert (await add(gql, token=sales, customerId=customer))["errors"] == []
    assert (await add(gql, token=planner, supplierId=supplier))["errors"] == []
    updated = await gql(UPDATE, {"id": supplier_contact["id"], "input": {"title": "Buyer"}}, token=planner)
    assert updated["data"]["updateContact"]["contact"]["title"] == "Buyer"
    removed = await gql(REMOVE, {"id": customer_contact["id"]}, token=sales)
    assert removed["data"]["removeContact"]["errors"] == []
