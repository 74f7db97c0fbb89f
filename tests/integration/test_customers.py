"""Customers: create, update, read, and every kind of bad input."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from api.relay import to_global_id
from domain.crm.models import Contact, Customer
from domain.shared.events import DomainEvent

CREATE = """
mutation($input: CustomerInput!) {
  createCustomer(input: $input) {
    customer { id code name email tags paymentTermsDays creditLimit
               contacts { id name email title } externalRefs { system } createdAt }
    errors { code field message }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: CustomerUpdateInput!) {
  updateCustomer(id: $id, input: $input) {
    customer { id name email segment creditLimit paymentTermsDays tags }
    errors { code field message }
  }
}"""


def customer_input(**overrides: Any) -> dict[str, Any]:
    return {
        "code": "ACME", "name": "Acme Corp", "email": "buy@acme.test", "tags": ["key"],
        "paymentTermsDays": 45, "creditLimit": "25000.00",
        "contacts": [{"name": "Ann Buyer", "email": "ann@acme.test", "title": "Purchasing"}],
    } | overrides


async def counts(sessionmaker: Any) -> tuple[int, int, int]:
    async with sessionmaker() as s:
        return (
            await s.scalar(select(func.count()).select_from(Customer)),
            await s.scalar(select(func.count()).select_from(Contact)),
            await s.scalar(select(func.count()).select_from(DomainEvent)),
        )


async def test_create_customer_with_contacts_and_event(gql, sessionmaker) -> None:
    before = await counts(sessionmaker)
    body = await gql(CREATE, {"input": customer_input()})
    payload = body["data"]["createCustomer"]
    assert payload["errors"] == []
    customer = payload["customer"]
    assert customer["code"] == "ACME"
    assert customer["creditLimit"] == "25000.00"
    assert customer["paymentTermsDays"] == 45
    assert customer["tags"] == ["key"]
    assert [c["name"] for c in customer["contacts"]] == ["Ann Buyer"]
    assert customer["externalRefs"] == []
    assert await counts(sessionmaker) == (before[0] + 1, before[1] + 1, before[2] + 1)
    async with sessionmaker() as s:
        event = (await s.execute(select(DomainEvent).order_by(DomainEvent.id.desc()))).scalars().first()
    assert (event.type, event.entity_type, event.payload) == ("customer.created", "Customer", {"code": "ACME"})

    fetched = await gql("query($id: ID!){ node(id: $id) { id ... on Customer { code } } }",
                        {"id": customer["id"]})
    assert fetched["data"]["node"] == {"id": customer["id"], "code": "ACME"}
    by_code = await gql('{ customer(code: "ACME") { name contacts { title } } }')
    assert by_code["data"]["customer"] == {"name": "Acme Corp", "contacts": [{"title": "Purchasing"}]}


async def test_defaults_no_credit_limit_and_30_days(gql) -> None:
    body = await gql(CREATE, {"input": {"code": "MIN", "name": "Minimal"}})
    customer = body["data"]["createCustomer"]["customer"]
    assert customer["creditLimit"] == "0.00"
    assert customer["paymentTermsDays"] == 30
    assert customer["tags"] == [] and customer["contacts"] == []


async def test_duplicate_code_is_refused_and_changes_nothing(gql, sessionmaker) -> None:
    await gql(CREATE, {"input": customer_input()})
    before = await counts(sessionmaker)
    body = await gql(CREATE, {"input": customer_input(name="Other")})
    payload = body["data"]["createCustomer"]
    assert payload["customer"] is None
    assert payload["errors"] == [
        {"code": "DUPLICATE", "field": ["code"], "message": "customer code 'ACME' is taken"}
    ]
    assert await counts(sessionmaker) == before


async def test_bad_input_reports_every_field(gql, sessionmaker) -> None:
    before = await counts(sessionmaker)
    body = await gql(CREATE, {"input": customer_input(
        code="bad code!", name="  ", email="not-an-email", creditLimit="-5",
        paymentTermsDays=-1, contacts=[{"name": ""}],
    )})
    errors = body["data"]["createCustomer"]["errors"]
    assert {(e["code"], tuple(e["field"])) for e in errors} == {
        ("INVALID", ("code",)), ("INVALID", ("name",)), ("INVALID", ("email",)),
        ("INVALID", ("creditLimit",)), ("INVALID", ("paymentTermsDays",)),
        ("INVALID", ("contacts", "0", "name")),
    }
    assert await counts(sessionmaker) == before


async def test_money_with_too_many_decimals_is_refused(gql) -> None:
    body = await gql(CREATE, {"input": customer_input(creditLimit="10.001")})
    assert body["data"]["createCustomer"]["errors"][0]["field"] == ["creditLimit"]


async def test_malformed_decimal_is_a_graphql_error_not_a_crash(gql) -> None:
    for bad in ("abc", "NaN", "Infinity"):
        body = await gql(CREATE, {"input": customer_input(creditLimit=bad)}, expect_errors=True)
        assert body.get("data") is None
        assert "Decimal" in body["errors"][0]["message"] or "decimal" in body["errors"][0]["message"]


async def test_update_changes_only_given_fields(gql, sessionmaker) -> None:
    created = (await gql(CREATE, {"input": customer_input(segment="OEM")}))["data"]["createCustomer"]["customer"]
    body = await gql(UPDATE, {"id": created["id"], "input": {"creditLimit": "1000.50", "segment": None}})
    payload = body["data"]["updateCustomer"]
    assert payload["errors"] == []
    assert payload["customer"] == {
        "id": created["id"], "name": "Acme Corp", "email": "buy@acme.test", "segment": None,
        "creditLimit": "1000.50", "paymentTermsDays": 45, "tags": ["key"],
    }
    async with sessionmaker() as s:
        types = (await s.execute(select(DomainEvent.type).order_by(DomainEvent.id))).scalars().all()
    assert types[-2:] == ["customer.created", "customer.updated"]


async def test_update_bad_input(gql) -> None:
    created = (await gql(CREATE, {"input": customer_input()}))["data"]["createCustomer"]["customer"]
    cases = [
        ({"id": created["id"], "input": {"name": None}}, ("INVALID", ["name"])),
        ({"id": created["id"], "input": {"creditLimit": "-1"}}, ("INVALID", ["creditLimit"])),
        ({"id": "Q3VzdG9tZXI6OTk5OTk=", "input": {"name": "x"}}, ("NOT_FOUND", ["id"])),  # Customer:99999
        ({"id": "garbage", "input": {"name": "x"}}, ("INVALID", ["id"])),
        ({"id": to_global_id("Item", 1), "input": {"name": "x"}}, ("NOT_FOUND", ["id"])),
    ]
    for variables, (code, field) in cases:
        payload = (await gql(UPDATE, variables))["data"]["updateCustomer"]
        assert payload["customer"] is None
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field), variables
    unchanged = await gql('{ customer(code: "ACME") { name creditLimit } }')
    assert unchanged["data"]["customer"] == {"name": "Acme Corp", "creditLimit": "25000.00"}


async def test_search(gql) -> None:
    for code, name in [("A1", "Alpha Tools"), ("B1", "Beta 100% Parts"), ("C1", "Gamma")]:
        await gql(CREATE, {"input": {"code": code, "name": name}})
    found = await gql('{ customers(search: "parts") { totalCount edges { node { code } } } }')
    assert found["data"]["customers"] == {"totalCount": 1, "edges": [{"node": {"code": "B1"}}]}
    literal = await gql('{ customers(search: "%") { totalCount } }')
    assert literal["data"]["customers"]["totalCount"] == 1  # % is matched literally
