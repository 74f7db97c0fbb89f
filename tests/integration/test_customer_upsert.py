"""upsertCustomerByExternalRef: one customer per (system, external id), however often or concurrently."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from domain.crm.models import Customer
from domain.integration.models import ExternalRef
from domain.shared.events import DomainEvent
from tests.integration.helpers import snapshot_table

UPSERT = """
mutation($system: String!, $externalId: String!, $input: CustomerInput!) {
  upsertCustomerByExternalRef(system: $system, externalId: $externalId, input: $input) {
    customer { id code name email version creditLimit externalRefs { system externalId status syncedAt } }
    errors { code field message }
  }
}"""
TABLES = ("customers", "external_refs", "credit_limit_changes")


async def upsert(gql: Any, system: str, external_id: str, token: str | None = None, **fields: Any) -> dict[str, Any]:
    body = await gql(UPSERT, {"system": system, "externalId": external_id,
                              "input": {"code": "SHOP-1", "name": "Shop One"} | fields}, token=token)
    return dict(body["data"]["upsertCustomerByExternalRef"])


async def events(sessionmaker: Any, kind: str) -> int:
    async with sessionmaker() as s:
        return int(await s.scalar(select(func.count()).where(DomainEvent.type == kind)) or 0)


async def test_create_then_update_then_nothing_to_change(gql: Any, sessionmaker: Any) -> None:
    created = await upsert(gql, "webshop", "C-42", email="a@shop.example")
    assert created["errors"] == []
    customer = created["customer"]
    assert (customer["code"], customer["name"], customer["version"]) == ("SHOP-1", "Shop One", 1)
    [ref] = customer["externalRefs"]
    assert (ref["system"], ref["externalId"], ref["status"]) == ("webshop", "C-42", "SYNCED")
    assert ref["syncedAt"] is not None

    renamed = await upsert(gql, "webshop", "C-42", name="Shop One Ltd")
    assert renamed["errors"] == []
    assert renamed["customer"]["id"] == customer["id"]
    # a field left out keeps its value
    assert (renamed["customer"]["name"], renamed["customer"]["email"], renamed["customer"]["version"]) == (
        "Shop One Ltd", "a@shop.example", 2)

    updates = await events(sessionmaker, "customer.updated")
    again = await upsert(gql, "webshop", "C-42", name="Shop One Ltd")
    assert again["errors"] == [] and again["customer"]["version"] == 2
    assert await events(sessionmaker, "customer.updated") == updates  # the same values record nothing


async def test_twenty_at_once_make_one_customer(gql: Any, sessionmaker: Any) -> None:
    results = await asyncio.gather(*(upsert(gql, "webshop", "C-7", name=f"Shop {n}") for n in range(20)))
    assert all(r["errors"] == [] for r in results)
    assert len({r["customer"]["id"] for r in results}) == 1
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Customer)) == 1
        assert await s.scalar(select(func.count()).select_from(ExternalRef)) == 1


async def test_a_partner_uses_its_own_system_only(gql: Any, make_token: Any, sessionmaker: Any) -> None:
    partner = await make_token("partner", partner="webshop")
    before = await snapshot_table(sessionmaker, *TABLES)
    other = await upsert(gql, "other-erp", "C-1", token=partner)
    assert (other["customer"], [(e["code"], e["field"]) for e in other["errors"]]) == (
        None, [("FORBIDDEN", ["system"])])
    assert await snapshot_table(sessionmaker, *TABLES) == before

    own = await upsert(gql, "webshop", "C-1", token=partner)
    assert own["errors"] == []
    # the customer is the partner's own: it reads it back through the fence
    body = await gql("query($id: ID!) { node(id: $id) { ... on Customer { code } } }",
                     {"id": own["customer"]["id"]}, token=partner)
    assert body["data"]["node"] == {"code": "SHOP-1"}


async def test_bad_input_changes_nothing(gql: Any, make_token: Any, sessionmaker: Any) -> None:
    assert (await upsert(gql, "webshop", "C-1"))["errors"] == []
    sales = await make_token("sales")
    before = await snapshot_table(sessionmaker, *TABLES)
    cases = [
        (("webshop", "  "), {}, None, [("INVALID", ["externalId"])]),
        (("", "C-2"), {}, None, [("INVALID", ["system"])]),
        (("webshop", "C-1"), {"code": "SHOP-2"}, None, [("INVALID", ["code"])]),  # codes never change
        (("webshop", "C-3"), {}, None, [("DUPLICATE", ["code"])]),  # SHOP-1 is another key's customer
        (("webshop", "C-1"), {"creditLimit": "500"}, sales, [("FORBIDDEN", ["creditLimit"])]),
    ]
    for (system, external_id), fields, token, expected in cases:
        payload = await upsert(gql, system, external_id, token=token, **fields)
        assert [(e["code"], e["field"]) for e in payload["errors"]] == expected, (system, external_id, payload)
        assert payload["customer"] is None
    assert await snapshot_table(sessionmaker, *TABLES) == before
