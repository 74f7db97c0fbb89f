"""Credit control cannot be bypassed by sales: every change of a credit limit is recorded
(``Customer.creditLimitHistory``), only finance:write changes one, partners do not read it."""

from __future__ import annotations

from typing import Any

from tests.integration.helpers import snapshot_table

ERRORS = "errors { code field message }"
CREATE = """mutation($input: CustomerInput!) { createCustomer(input: $input) {
  customer { id version creditLimitHistory { previousLimit newLimit changedBy changedAt } } """ + ERRORS + " } }"
UPDATE = """mutation($id: ID!, $input: CustomerUpdateInput!) { updateCustomer(id: $id, input: $input) {
  customer { version creditLimit creditLimitHistory { previousLimit newLimit changedBy } } """ + ERRORS + " } }"
HISTORY = """query($id: ID!) { node(id: $id) { ... on Customer {
  creditLimitHistory { previousLimit newLimit changedBy changedAt } } } }"""


async def test_every_credit_limit_change_is_recorded_newest_first(gql: Any, make_token: Any) -> None:
    finance = await make_token("finance", "fiona")
    created = await gql(CREATE, {"input": {"code": "LIM", "name": "Limited", "creditLimit": "1000"}})
    payload = created["data"]["createCustomer"]
    assert payload["errors"] == []
    (first,) = payload["customer"]["creditLimitHistory"]
    assert (first["previousLimit"], first["newLimit"], first["changedBy"]) == (None, "1000.00", "test-admin")
    customer = payload["customer"]["id"]

    raised = await gql(UPDATE, {"id": customer, "input": {"creditLimit": "2500"}}, token=finance)
    assert raised["data"]["updateCustomer"]["errors"] == []
    same = await gql(UPDATE, {"id": customer, "input": {"creditLimit": "2500", "name": "Still limited"}},
                     token=await make_token("admin", "anna"))
    assert same["data"]["updateCustomer"]["errors"] == []  # the same limit again: no change to record
    renamed = await gql(UPDATE, {"id": customer, "input": {"name": "Renamed"}})
    assert renamed["data"]["updateCustomer"]["errors"] == []
    lowered = await gql(UPDATE, {"id": customer, "input": {"creditLimit": "0"}}, token=finance)
    history = lowered["data"]["updateCustomer"]["customer"]["creditLimitHistory"]
    assert [(h["previousLimit"], h["newLimit"], h["changedBy"]) for h in history] == [
        ("2500.00", "0.00", "fiona"), ("1000.00", "2500.00", "fiona"), (None, "1000.00", "test-admin"),
    ]
    read = (await gql(HISTORY, {"id": customer}, token=await make_token("sales")))["data"]["node"]
    assert read["creditLimitHistory"][0]["newLimit"] == "0.00"
    times = [h["changedAt"] for h in read["creditLimitHistory"]]
    assert times == sorted(times, reverse=True)


async def test_a_customer_created_without_a_limit_has_no_history(gql: Any) -> None:
    created = await gql(CREATE, {"input": {"code": "NOLIM", "name": "No limit"}})
    assert created["data"]["createCustomer"]["customer"]["creditLimitHistory"] == []


async def test_sales_cannot_raise_a_limit_and_the_refusal_records_nothing(
    gql: Any, sessionmaker: Any, make_token: Any
) -> None:
    created = await gql(CREATE, {"input": {"code": "HOLD", "name": "On hold", "creditLimit": "100"}})
    customer = created["data"]["createCustomer"]["customer"]["id"]
    sales = await make_token("sales")
    before = await snapshot_table(sessionmaker, "customers", "credit_limit_changes")
    refused = await gql(UPDATE, {"id": customer, "input": {"creditLimit": "100000"}}, token=sales)
    assert [(e["code"], e["field"]) for e in refused["data"]["updateCustomer"]["errors"]] == [
        ("FORBIDDEN", ["creditLimit"])]
    on_create = await gql(CREATE, {"input": {"code": "MINE", "name": "Mine", "creditLimit": "5"}}, token=sales)
    assert [e["code"] for e in on_create["data"]["createCustomer"]["errors"]] == ["FORBIDDEN"]
    assert await snapshot_table(sessionmaker, "customers", "credit_limit_changes") == before


async def test_partners_do_not_read_the_history(gql: Any, sessionmaker: Any, make_token: Any) -> None:
    from domain.integration.models import ExternalRef
    from tests.integration.sales_helpers import pk

    created = await gql(CREATE, {"input": {"code": "PART", "name": "Partnered", "creditLimit": "100"}})
    customer = created["data"]["createCustomer"]["customer"]["id"]
    async with sessionmaker.begin() as s:
        s.add(ExternalRef(entity_type="Customer", entity_id=pk(customer), system="alpha", status="SYNCED"))
    partner = await make_token("partner", partner="alpha")
    body = await gql(HISTORY, {"id": customer}, token=partner, expect_errors=True)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert body["data"]["node"] is None or body["data"]["node"].get("creditLimitHistory") is None
