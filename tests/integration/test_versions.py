"""Optimistic versions, credit limits that only finance sets, and parallel creates of one code."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.helpers import snapshot_table
from tests.integration.test_customers import CREATE, UPDATE, customer_input

VERSIONED_UPDATE = UPDATE.replace("customer { id", "customer { id version")


async def created(gql: Any, **overrides: Any) -> dict[str, Any]:
    body = await gql(CREATE.replace("customer { id", "customer { id version"), {"input": customer_input(**overrides)})
    payload = body["data"]["createCustomer"]
    assert payload["errors"] == [], payload
    return dict(payload["customer"])


async def test_every_change_raises_the_version_and_a_stale_one_is_refused(gql: Any, sessionmaker: Any) -> None:
    customer = await created(gql)
    assert customer["version"] == 1
    first = (await gql(VERSIONED_UPDATE, {"id": customer["id"], "input": {"name": "Acme Ltd", "expectedVersion": 1}}))
    assert first["data"]["updateCustomer"]["customer"]["version"] == 2
    second = (await gql(VERSIONED_UPDATE, {"id": customer["id"], "input": {"segment": "B2B"}}))
    assert second["data"]["updateCustomer"]["customer"]["version"] == 3

    before = await snapshot_table(sessionmaker, "customers")
    stale = (await gql(VERSIONED_UPDATE, {"id": customer["id"], "input": {"name": "Late", "expectedVersion": 2}}))
    payload = stale["data"]["updateCustomer"]
    assert payload["customer"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("CONFLICT", ["expectedVersion"])]
    assert "version 3" in payload["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, "customers") == before


async def test_twenty_parallel_updates_of_one_version_exactly_one_wins(gql: Any, sessionmaker: Any) -> None:
    customer = await created(gql)
    results = await asyncio.gather(*(
        gql(VERSIONED_UPDATE, {"id": customer["id"], "input": {"name": f"Acme {i}", "expectedVersion": 1}})
        for i in range(20)
    ))
    payloads = [r["data"]["updateCustomer"] for r in results]
    winners = [p for p in payloads if not p["errors"]]
    assert len(winners) == 1 and winners[0]["customer"]["version"] == 2
    assert {e["code"] for p in payloads if p["errors"] for e in p["errors"]} == {"CONFLICT"}
    current = (await gql(VERSIONED_UPDATE, {"id": customer["id"], "input": {}}))["data"]["updateCustomer"]
    assert current["customer"]["name"] == winners[0]["customer"]["name"]


async def test_credit_limits_are_finance_s(gql: Any, sessionmaker: Any, make_token: Any) -> None:
    sales, finance = await make_token("sales"), await make_token("finance")
    before = await snapshot_table(sessionmaker, "customers")
    refused = (await gql(CREATE, {"input": customer_input(code="S1")}, token=sales))["data"]["createCustomer"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("FORBIDDEN", ["creditLimit"])]
    assert await snapshot_table(sessionmaker, "customers") == before

    customer = (await gql(CREATE, {"input": customer_input(code="S1", creditLimit=None)}, token=sales))
    customer_id = customer["data"]["createCustomer"]["customer"]["id"]
    lifted = (await gql(UPDATE, {"id": customer_id, "input": {"creditLimit": "99999"}}, token=sales))
    assert [(e["code"], e["field"]) for e in lifted["data"]["updateCustomer"]["errors"]] == [
        ("FORBIDDEN", ["creditLimit"])]
    renamed = (await gql(UPDATE, {"id": customer_id, "input": {"name": "Renamed"}}, token=sales))
    assert renamed["data"]["updateCustomer"]["customer"]["creditLimit"] == "0.00"
    granted = (await gql(UPDATE, {"id": customer_id, "input": {"creditLimit": "5000"}}, token=finance))
    assert granted["data"]["updateCustomer"]["customer"]["creditLimit"] == "5000.00"
    renaming = (await gql(UPDATE, {"id": customer_id, "input": {"name": "By finance"}}, token=finance))
    assert [(e["code"], e["field"]) for e in renaming["data"]["updateCustomer"]["errors"]] == [
        ("FORBIDDEN", ["name"])]


async def test_parallel_creates_of_one_code_every_loser_gets_duplicate(gql: Any, sessionmaker: Any) -> None:
    results = await asyncio.gather(*(
        gql(CREATE, {"input": customer_input(code="RACE", name=f"Racer {i}")}) for i in range(12)
    ))
    payloads = [r["data"]["createCustomer"] for r in results]
    assert sum(1 for p in payloads if not p["errors"]) == 1
    losers = [p["errors"] for p in payloads if p["errors"]]
    assert all([(e["code"], e["field"]) for e in errors] == [("DUPLICATE", ["code"])] for errors in losers), losers
