"""simulateQuote: prices for a target margin from the roll-up of now; bad input; nothing saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from api.relay import to_global_id
from tests.integration.helpers import create_item, snapshot_table
from tests.integration.sales_helpers import create_customer
from tests.integration.test_cost_rollup import three_levels

SIMULATE = """
mutation($input: SimulateQuoteInput!) { simulateQuote(input: $input) {
  simulation { customer { code } targetMarginPercent revenue cost margin marginPercent
               lines { item { sku } quantity unitCost unitPrice lineTotal } }
  errors { code field message } } }
"""
DEACTIVATE = (
    "mutation($id: ID!) { updateItem(id: $id, input: {active: false}) { errors { code field message } } }"
)
TABLES = ("quotes", "quote_lines", "sales_orders", "cost_rollups", "jobs", "stock_moves", "item_valuations")


async def simulate(gql: Any, customer: str, lines: list[tuple[str, str]], margin: str,
                   token: str | None = None) -> dict[str, Any]:
    body = await gql(SIMULATE, {"input": {"customerId": customer, "targetMarginPercent": margin,
                                          "lines": [{"itemId": i, "quantity": q} for i, q in lines]}}, token=token)
    return dict(body["data"]["simulateQuote"])


async def test_prices_from_the_rollup_for_a_target_margin(gql: Any, sessionmaker: Any, make_token: Any) -> None:
    """T's roll-up is 16.6210526316 (see test_cost_rollup), R1 is bought at an average of 2.00.
    At 25%: T 16.6210526316 / 0.75 = 22.1614035088 -> 22.16, × 3 = 66.48;
    R1 2.00 / 0.75 = 2.666… -> 2.67, × 2 = 5.34. Revenue 71.82; cost = 3 × 16.6210526316 + 2 × 2
    = 53.8631578948 -> 53.86; margin 17.96; 17.96 / 71.82 × 100 = 25.0069… -> 25.01 achieved.
    Sales (no costing:read) sees the same prices and no costs. Nothing is saved."""
    ids = await three_levels(gql, sessionmaker)
    customer = await create_customer(gql, "ACME")
    sales = await make_token("sales")
    before = await snapshot_table(sessionmaker, *TABLES)
    payload = await simulate(gql, customer, [(ids["T"], "3"), (ids["R1"], "2")], "25")
    assert payload["errors"] == []
    found = payload["simulation"]
    assert found["customer"] == {"code": "ACME"}
    assert [(line["item"]["sku"], *(Decimal(line[k]) for k in ("quantity", "unitCost", "unitPrice", "lineTotal")))
            for line in found["lines"]] == [
        ("T", Decimal(3), Decimal("16.6210526316"), Decimal("22.16"), Decimal("66.48")),
        ("R1", Decimal(2), Decimal(2), Decimal("2.67"), Decimal("5.34")),
    ]
    assert [Decimal(found[k]) for k in ("targetMarginPercent", "revenue", "cost", "margin", "marginPercent")] == [
        Decimal(25), Decimal("71.82"), Decimal("53.86"), Decimal("17.96"), Decimal("25.01")
    ]

    hidden = (await simulate(gql, customer, [(ids["T"], "3"), (ids["R1"], "2")], "25", token=sales))
    assert hidden["errors"] == []
    assert [(line["unitCost"], line["unitPrice"]) for line in hidden["simulation"]["lines"]] == [
        (None, found["lines"][0]["unitPrice"]), (None, found["lines"][1]["unitPrice"])
    ]
    assert [hidden["simulation"][k] for k in ("cost", "margin", "marginPercent")] == [None, None, None]
    assert hidden["simulation"]["revenue"] == found["revenue"]
    assert await snapshot_table(sessionmaker, *TABLES) == before


@pytest.mark.parametrize(("case", "code", "field"), [
    ("target 100", "INVALID", ["targetMarginPercent"]),
    ("target 150", "INVALID", ["targetMarginPercent"]),
    ("negative target", "INVALID", ["targetMarginPercent"]),
    ("unknown item", "NOT_FOUND", ["lines", "1", "itemId"]),
    ("inactive item", "INVALID_STATE", ["lines", "0", "itemId"]),
    ("no lines", "INVALID", ["lines"]),
    ("zero quantity", "INVALID", ["lines", "0", "quantity"]),
    ("unknown customer", "NOT_FOUND", ["customerId"]),
])
async def test_bad_input_is_refused_and_changes_nothing(
    gql: Any, sessionmaker: Any, case: str, code: str, field: list[str]
) -> None:
    ids = await three_levels(gql, sessionmaker)
    customer = await create_customer(gql, "ACME")
    old = await create_item(gql, "OLD")
    assert (await gql(DEACTIVATE, {"id": old}))["data"]["updateItem"]["errors"] == []
    lines = [(ids["T"], "1"), (ids["R1"], "2")]
    margin = "25"
    if case == "target 100":
        margin = "100"
    elif case == "target 150":
        margin = "150"
    elif case == "negative target":
        margin = "-5"
    elif case == "unknown item":
        lines[1] = (to_global_id("Item", 999_999), "1")
    elif case == "inactive item":
        lines[0] = (old, "1")
    elif case == "no lines":
        lines = []
    elif case == "zero quantity":
        lines[0] = (ids["T"], "0")
    elif case == "unknown customer":
        customer = to_global_id("Customer", 999_999)
    before = await snapshot_table(sessionmaker, *TABLES)
    payload = await simulate(gql, customer, lines, margin)
    assert payload["simulation"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], payload["errors"]
    assert await snapshot_table(sessionmaker, *TABLES) == before


async def test_a_partner_may_not_price_from_costs(gql: Any, sessionmaker: Any, make_token: Any) -> None:
    """At a 0 % target the price is the cost in cents: simulating is refused to a partner
    (no pricing:simulate), even for a customer of its own."""
    ids = await three_levels(gql, sessionmaker)
    partner = await make_token("partner")
    body = await gql(
        "mutation($input: CustomerInput!) { createCustomer(input: $input) { customer { id } errors { code } } }",
        {"input": {"code": "OWN", "name": "Own customer"}}, token=partner,
    )
    own = body["data"]["createCustomer"]["customer"]["id"]
    payload = await simulate(gql, own, [(ids["T"], "1")], "0", token=partner)
    assert payload["simulation"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("FORBIDDEN", None)]
