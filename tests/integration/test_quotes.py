"""Quotes: create with prices, convert to a DRAFT order, and every refusal."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from api.relay import to_global_id
from domain.crm.models import Opportunity
from domain.sales.models import Quote
from tests.integration.helpers import create_item
from tests.integration.sales_helpers import ORDER_FIELDS, create_customer, pk, snapshot

CREATE = """
mutation($input: QuoteInput!) {
  createQuote(input: $input) {
    quote { id number status validUntil subtotal taxTotal total customer { code } salesOrder { id }
            lines { item { sku } quantity unitPrice discountPercent taxRate lineTotal } }
    errors { code field message }
  }
}"""
CONVERT = (
    "mutation($id: ID!) { convertQuoteToOrder(id: $id) { order {" + ORDER_FIELDS
    + "} errors { code field message } } }"
)


async def _opportunity(sessionmaker: Any, customer_id: str) -> str:
    async with sessionmaker.begin() as s:
        opp = Opportunity(customer_id=pk(customer_id), name="Big deal")
        s.add(opp)
        await s.flush()
        return to_global_id("Opportunity", opp.id)


@pytest.fixture
async def world(gql, sessionmaker) -> dict[str, str]:
    customer = await create_customer(gql, "ACME")
    other = await create_customer(gql, "OTHER")
    return {
        "customer": customer, "other": other,
        "item": await create_item(gql, "PUMP", listPrice="19.99"),
        "opportunity": await _opportunity(sessionmaker, customer),
        "other_opportunity": await _opportunity(sessionmaker, other),
    }


async def create(gql: Any, world: dict[str, str], **extra: Any) -> dict[str, Any]:
    values = {"customerId": world["customer"],
              "lines": [{"itemId": world["item"], "quantity": "3", "discountPercent": "10", "taxRate": "20"},
                        {"itemId": world["item"], "quantity": "1", "unitPrice": "0.005"}]} | extra
    return dict((await gql(CREATE, {"input": values}))["data"]["createQuote"])


async def test_create_quote(gql, world) -> None:
    valid = str(date.today() + timedelta(days=30))
    payload = await create(gql, world, opportunityId=world["opportunity"], validUntil=valid)
    assert payload["errors"] == []
    quote = payload["quote"]
    assert quote["number"].startswith("QT-") and quote["status"] == "DRAFT"
    assert quote["validUntil"] == valid and quote["salesOrder"] is None
    assert [line["lineTotal"] for line in quote["lines"]] == ["53.97", "0.01"]
    assert (quote["subtotal"], quote["taxTotal"], quote["total"]) == ("53.98", "10.79", "64.77")


async def test_create_quote_bad_input_changes_nothing(gql, sessionmaker, world) -> None:
    before = await snapshot(sessionmaker)
    line = {"itemId": world["item"], "quantity": "1"}
    cases: list[tuple[dict[str, Any], tuple[str, list[str]]]] = [
        ({"opportunityId": world["other_opportunity"]}, ("INVALID", ["opportunityId"])),
        ({"opportunityId": to_global_id("Opportunity", 999)}, ("NOT_FOUND", ["opportunityId"])),
        ({"customerId": to_global_id("Customer", 999)}, ("NOT_FOUND", ["customerId"])),
        ({"lines": [line | {"quantity": "0"}]}, ("INVALID", ["lines", "0", "quantity"])),
        ({"lines": [line | {"quantity": "-1"}]}, ("INVALID", ["lines", "0", "quantity"])),
        ({"lines": [line | {"itemId": to_global_id("Item", 999)}]},
         ("NOT_FOUND", ["lines", "0", "itemId"])),
        ({"lines": []}, ("INVALID", ["lines"])),
    ]
    for override, (code, field) in cases:
        payload = await create(gql, world, **override)
        assert payload["quote"] is None, override
        assert (payload["errors"][0]["code"], payload["errors"][0]["field"]) == (code, field), override
    assert await snapshot(sessionmaker) == before


async def test_convert_quote_to_order(gql, world) -> None:
    quote = (await create(gql, world))["quote"]
    payload = (await gql(CONVERT, {"id": quote["id"]}))["data"]["convertQuoteToOrder"]
    assert payload["errors"] == []
    order = payload["order"]
    assert order["status"] == "DRAFT" and order["quote"] == {"number": quote["number"]}
    assert [(line["unitPrice"], line["lineTotal"], line["taxRate"]) for line in order["lines"]] == [
        (line["unitPrice"], line["lineTotal"], line["taxRate"]) for line in quote["lines"]
    ]
    assert order["total"] == quote["total"]
    reread = (await gql("query($id: ID!) { node(id: $id) { ... on Quote { status salesOrder { id } } } }",
                        {"id": quote["id"]}))["data"]["node"]
    assert reread == {"status": "ACCEPTED", "salesOrder": {"id": order["id"]}}
    again = (await gql(CONVERT, {"id": quote["id"]}))["data"]["convertQuoteToOrder"]
    assert (again["errors"][0]["code"], again["errors"][0]["field"]) == ("INVALID_STATE", ["id"])


async def test_convert_refusals_change_nothing(gql, sessionmaker, world) -> None:
    expired = (await create(gql, world, validUntil=str(date.today() - timedelta(days=1))))["quote"]
    rejected = (await create(gql, world))["quote"]
    async with sessionmaker.begin() as s:
        (await s.get(Quote, pk(rejected["id"]))).status = "REJECTED"  # type: ignore[union-attr]
    before = await snapshot(sessionmaker)
    yesterday = date.today() - timedelta(days=1)
    rule = "only a DRAFT or SENT quote within its validity is converted"
    for bad, (code, message) in (
        (expired["id"], ("INVALID_STATE",
                         f"cannot convert quote {expired['number']}: it is EXPIRED (valid until {yesterday}); {rule}")),
        (rejected["id"], ("INVALID_STATE", f"cannot convert quote {rejected['number']}: it is REJECTED; {rule}")),
        (to_global_id("Quote", 999), ("NOT_FOUND", "quote not found")),
        (world["item"], ("NOT_FOUND", "Quote not found")),
    ):
        payload = (await gql(CONVERT, {"id": bad}))["data"]["convertQuoteToOrder"]
        assert payload["order"] is None
        assert payload["errors"] == [{"code": code, "field": ["id"], "message": message}]
    assert await snapshot(sessionmaker) == before
    # valid until today is still valid
    today = (await create(gql, world, validUntil=str(date.today())))["quote"]
    assert (await gql(CONVERT, {"id": today["id"]}))["data"]["convertQuoteToOrder"]["errors"] == []
