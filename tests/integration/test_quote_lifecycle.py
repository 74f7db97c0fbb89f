"""Quote lifecycle: edit a DRAFT, send, reject, expiry read at query time, and the quotes list."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update

from api.relay import to_global_id
from domain.inventory.models import Item
from domain.sales.models import Quote
from domain.shared.events import DomainEvent
from tests.integration.helpers import create_item, snapshot_table
from tests.integration.sales_helpers import create_customer, pk

QUOTE_FIELDS = """
id number status validUntil notes rejectionReason version subtotal taxTotal total
customer { code } lines { item { sku } quantity unitPrice discountPercent taxRate lineTotal }
"""
ERRORS = "errors { code field message }"
CREATE = "mutation($input: QuoteInput!) { createQuote(input: $input) { quote {" + QUOTE_FIELDS + "} " + ERRORS + " } }"
UPDATE = (
    "mutation($id: ID!, $input: QuoteUpdateInput!) { updateQuote(id: $id, input: $input) { quote {"
    + QUOTE_FIELDS + "} " + ERRORS + " } }"
)
SEND = "mutation($id: ID!) { sendQuote(id: $id) { quote {" + QUOTE_FIELDS + "} " + ERRORS + " } }"
REJECT = (
    "mutation($id: ID!, $reason: String!) { rejectQuote(id: $id, reason: $reason) { quote {"
    + QUOTE_FIELDS + "} " + ERRORS + " } }"
)
CONVERT = "mutation($id: ID!) { convertQuoteToOrder(id: $id) { order { id notes total } " + ERRORS + " } }"
QUOTES = """
query($first: Int, $after: String, $status: [QuoteStatus!], $customerId: ID, $search: String) {
  quotes(first: $first, after: $after, status: $status, customerId: $customerId, search: $search) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { number status customer { code } } }
  }
}"""
TABLES = ("quotes", "quote_lines", "sales_orders")
TODAY = date.today()


async def world(gql: Any) -> dict[str, str]:
    return {
        "customer": await create_customer(gql, "ACME"),
        "pump": await create_item(gql, "PUMP", listPrice="19.99"),
        "valve": await create_item(gql, "VALVE", listPrice="5.00"),
    }


async def create(gql: Any, w: dict[str, str], **extra: Any) -> dict[str, Any]:
    values = {"customerId": w["customer"], "lines": [{"itemId": w["pump"], "quantity": "2"}]} | extra
    payload = (await gql(CREATE, {"input": values}))["data"]["createQuote"]
    assert payload["errors"] == [], payload
    return dict(payload["quote"])


async def call(gql: Any, mutation: str, name: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    extra = {} if token is None else {"token": token}
    return dict((await gql(mutation, variables, **extra))["data"][name])


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def events(sessionmaker: Any, quote_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with sessionmaker() as s:
        rows = await s.execute(
            select(DomainEvent.type, DomainEvent.payload)
            .where(DomainEvent.entity_type == "Quote", DomainEvent.entity_id == pk(quote_id))
            .order_by(DomainEvent.id)
        )
        return [(row.type, row.payload) for row in rows]


async def test_update_replaces_lines_and_changes_only_the_fields_given(gql, sessionmaker) -> None:
    w = await world(gql)
    quote = await create(gql, w, validUntil=str(TODAY + timedelta(days=10)), notes="first call")
    assert (quote["version"], quote["total"], quote["notes"]) == (1, "39.98", "first call")

    lines = [{"itemId": w["valve"], "quantity": "4", "discountPercent": "10", "taxRate": "20"},
             {"itemId": w["pump"], "quantity": "1", "unitPrice": "18.00"}]
    payload = await call(gql, UPDATE, "updateQuote", id=quote["id"], input={"lines": lines, "expectedVersion": 1})
    assert payload["errors"] == []
    edited = payload["quote"]
    assert [(line["item"]["sku"], line["unitPrice"], line["lineTotal"]) for line in edited["lines"]] == [
        ("VALVE", "5.00", "18.00"), ("PUMP", "18.00", "18.00")]
    assert (edited["subtotal"], edited["taxTotal"], edited["total"]) == ("36.00", "3.60", "39.60")
    # fields not given are kept
    assert (edited["validUntil"], edited["notes"], edited["version"]) == (quote["validUntil"], "first call", 2)

    payload = await call(gql, UPDATE, "updateQuote", id=quote["id"], input={"notes": "call back", "validUntil": None})
    edited = payload["quote"]
    assert (edited["notes"], edited["validUntil"], edited["version"], edited["total"]) == (
        "call back", None, 3, "39.60")
    assert len(edited["lines"]) == 2
    # the same lines again still raise the version: the lines were replaced
    same = await call(gql, UPDATE, "updateQuote", id=quote["id"], input={"lines": lines})
    assert same["quote"]["version"] == 4 and same["quote"]["total"] == "39.60"
    assert [(t, p.get("fields")) for t, p in await events(sessionmaker, quote["id"])] == [
        ("quote.created", None), ("quote.updated", ["lines"]), ("quote.updated", ["notes", "validUntil"]),
        ("quote.updated", ["lines"]),
    ]
    # the converted order carries the edited lines and notes
    order = (await call(gql, CONVERT, "convertQuoteToOrder", id=quote["id"]))["order"]
    assert (order["total"], order["notes"]) == ("39.60", "call back")


async def test_update_refusals_change_nothing(gql, sessionmaker) -> None:
    w = await world(gql)
    quote = await create(gql, w)
    sent = await create(gql, w)
    assert (await call(gql, SEND, "sendQuote", id=sent["id"]))["errors"] == []
    async with sessionmaker.begin() as s:
        await s.execute(update(Item).where(Item.id == pk(w["valve"])).values(active=False))
    await call(gql, UPDATE, "updateQuote", id=quote["id"], input={"notes": "v2"})  # now at version 2
    before = await snapshot_table(sessionmaker, *TABLES)
    line = {"itemId": w["pump"], "quantity": "1"}
    cases: list[tuple[str, dict[str, Any], str, list[str]]] = [
        (quote["id"], {"notes": "late", "expectedVersion": 1}, "CONFLICT", ["expectedVersion"]),
        (sent["id"], {"notes": "too late"}, "INVALID_STATE", ["id"]),
        (quote["id"], {"lines": []}, "INVALID", ["lines"]),
        (quote["id"], {"lines": None}, "INVALID", ["lines"]),
        (quote["id"], {"lines": [line | {"quantity": "0"}]}, "INVALID", ["lines", "0", "quantity"]),
        (quote["id"], {"lines": [line | {"itemId": w["valve"]}]}, "INVALID_STATE", ["lines", "0", "itemId"]),
        (quote["id"], {"lines": [line | {"itemId": to_global_id("Item", 999)}]}, "NOT_FOUND",
         ["lines", "0", "itemId"]),
        (quote["id"], {"lines": [line | {"itemId": "garbage"}]}, "INVALID", ["lines", "0", "itemId"]),
        (to_global_id("Quote", 999), {"notes": "x"}, "NOT_FOUND", ["id"]),
        (w["customer"], {"notes": "x"}, "NOT_FOUND", ["id"]),
        ("garbage", {"notes": "x"}, "INVALID", ["id"]),
    ]
    for quote_id, changes, code, field in cases:
        payload = await call(gql, UPDATE, "updateQuote", id=quote_id, input=changes)
        assert payload["quote"] is None, changes
        assert errors(payload) == [(code, field)], (changes, payload)
    assert "SENT" in (await call(gql, UPDATE, "updateQuote", id=sent["id"], input={}))["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, *TABLES) == before


async def test_send_then_reject_and_the_wrong_states(gql, sessionmaker) -> None:
    w = await world(gql)
    quote = await create(gql, w)
    payload = await call(gql, SEND, "sendQuote", id=quote["id"])
    assert payload["errors"] == [] and payload["quote"]["status"] == "SENT"
    before = await snapshot_table(sessionmaker, *TABLES)
    again = await call(gql, SEND, "sendQuote", id=quote["id"])
    assert errors(again) == [("INVALID_STATE", ["id"])] and "it is SENT" in again["errors"][0]["message"]
    blank = await call(gql, REJECT, "rejectQuote", id=quote["id"], reason="   ")
    assert errors(blank) == [("INVALID", ["reason"])]
    assert await snapshot_table(sessionmaker, *TABLES) == before

    rejected = await call(gql, REJECT, "rejectQuote", id=quote["id"], reason=" too expensive ")
    assert rejected["errors"] == []
    assert (rejected["quote"]["status"], rejected["quote"]["rejectionReason"]) == ("REJECTED", "too expensive")
    assert [t for t, _ in await events(sessionmaker, quote["id"])] == [
        "quote.created", "quote.sent", "quote.rejected"]

    before = await snapshot_table(sessionmaker, *TABLES)
    for mutation, name, extra in (
        (SEND, "sendQuote", {}), (REJECT, "rejectQuote", {"reason": "again"}),
        (UPDATE, "updateQuote", {"input": {"notes": "x"}}), (CONVERT, "convertQuoteToOrder", {}),
    ):
        refused = await call(gql, mutation, name, id=quote["id"], **extra)
        assert errors(refused) == [("INVALID_STATE", ["id"])], name
    assert await snapshot_table(sessionmaker, *TABLES) == before

    # a DRAFT is rejected directly; an ACCEPTED one is not
    draft = await create(gql, w)
    assert (await call(gql, REJECT, "rejectQuote", id=draft["id"], reason="no"))["quote"]["status"] == "REJECTED"
    accepted = await create(gql, w)
    assert (await call(gql, CONVERT, "convertQuoteToOrder", id=accepted["id"]))["errors"] == []
    refused = await call(gql, REJECT, "rejectQuote", id=accepted["id"], reason="no")
    assert errors(refused) == [("INVALID_STATE", ["id"])] and "ACCEPTED" in refused["errors"][0]["message"]


async def test_a_sent_quote_converts(gql) -> None:
    w = await world(gql)
    quote = await create(gql, w, validUntil=str(TODAY))
    await call(gql, SEND, "sendQuote", id=quote["id"])
    converted = await call(gql, CONVERT, "convertQuoteToOrder", id=quote["id"])
    assert converted["errors"] == [] and converted["order"]["total"] == quote["total"]


async def test_expiry_is_read_the_same_by_the_status_the_filter_and_conversion(gql, sessionmaker) -> None:
    w = await world(gql)
    yesterday, tomorrow = str(TODAY - timedelta(days=1)), str(TODAY + timedelta(days=1))
    # entered after the fact: a past validUntil is accepted, and the quote reads EXPIRED at once
    late = await create(gql, w, validUntil=yesterday)
    assert late["status"] == "EXPIRED"
    sent = await create(gql, w, validUntil=tomorrow)
    await call(gql, SEND, "sendQuote", id=sent["id"])
    on_time = await create(gql, w, validUntil=str(TODAY))
    open_ended = await create(gql, w)
    rejected = await create(gql, w, validUntil=tomorrow)
    await call(gql, REJECT, "rejectQuote", id=rejected["id"], reason="no")
    # SENT and REJECTED quotes whose date has passed since
    async with sessionmaker.begin() as s:
        await s.execute(update(Quote).where(Quote.id.in_([pk(sent["id"]), pk(rejected["id"])]))
                        .values(valid_until=TODAY - timedelta(days=3)))

    async def listed(*status: str) -> set[str]:
        body = await gql(QUOTES, {"status": list(status)})
        return {edge["node"]["number"] for edge in body["data"]["quotes"]["edges"]}

    assert await listed("EXPIRED") == {late["number"], sent["number"]}
    assert await listed("DRAFT") == {on_time["number"], open_ended["number"]}
    assert await listed("SENT") == set()
    assert await listed("REJECTED") == {rejected["number"]}
    # every quote is listed under the status it reads
    body = await gql(QUOTES, {})
    for edge in body["data"]["quotes"]["edges"]:
        assert edge["node"]["number"] in await listed(edge["node"]["status"])

    before = await snapshot_table(sessionmaker, *TABLES)
    for expired in (late, sent):
        refused = await call(gql, CONVERT, "convertQuoteToOrder", id=expired["id"])
        assert errors(refused) == [("INVALID_STATE", ["id"])]
        assert "it is EXPIRED (valid until" in refused["errors"][0]["message"]
    assert errors(await call(gql, SEND, "sendQuote", id=late["id"])) == [("INVALID_STATE", ["id"])]
    assert await snapshot_table(sessionmaker, *TABLES) == before

    # the way out: an expired SENT quote is rejected, an expired DRAFT gets a new date
    assert (await call(gql, REJECT, "rejectQuote", id=sent["id"], reason="lapsed"))["quote"]["status"] == "REJECTED"
    revived = await call(gql, UPDATE, "updateQuote", id=late["id"], input={"validUntil": tomorrow})
    assert revived["quote"]["status"] == "DRAFT"
    assert (await call(gql, CONVERT, "convertQuoteToOrder", id=late["id"]))["errors"] == []


async def test_quotes_list_pages_filters_and_searches(gql) -> None:
    w = await world(gql)
    other = await create_customer(gql, "ZED_1")
    mine = [await create(gql, w) for _ in range(5)]
    theirs = [await create(gql, w, customerId=other) for _ in range(2)]

    seen: list[str] = []
    after = None
    while True:
        page = (await gql(QUOTES, {"first": 3, "after": after}))["data"]["quotes"]
        assert page["totalCount"] == 7
        seen += [edge["node"]["number"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [q["number"] for q in mine + theirs]

    async def numbers(**variables: Any) -> list[str]:
        body = await gql(QUOTES, variables)
        assert "errors" not in body, body
        return [edge["node"]["number"] for edge in body["data"]["quotes"]["edges"]]

    assert await numbers(customerId=other) == [q["number"] for q in theirs]
    # an unknown or wrong-type customer is an error, as in every list's filter
    for bad in (to_global_id("Customer", 999), w["pump"]):
        refused = await gql(QUOTES, {"customerId": bad}, expect_errors=True)
        assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in refused["errors"]] == [
            ("NOT_FOUND", ["customerId"])]
    assert await numbers(search=mine[3]["number"].lower()) == [mine[3]["number"]]
    assert await numbers(search="zed_") == [q["number"] for q in theirs]  # customer code
    assert await numbers(search="customer acme") == [q["number"] for q in mine]  # customer name
    assert await numbers(search="%") == []  # wildcards are literal
    assert await numbers(search="  ") == [q["number"] for q in mine + theirs]
    body = await gql(QUOTES, {"status": ["DRAFT"], "customerId": other, "search": "ZED"})
    assert body["data"]["quotes"]["totalCount"] == 2


async def test_quote_writes_need_sales_write(gql, sessionmaker, make_token) -> None:
    w = await world(gql)
    quote = await create(gql, w)
    token = await make_token("finance")
    before = await snapshot_table(sessionmaker, *TABLES)
    for mutation, name, extra in (
        (UPDATE, "updateQuote", {"input": {"notes": "x"}}), (SEND, "sendQuote", {}),
        (REJECT, "rejectQuote", {"reason": "x"}),
    ):
        refused = await call(gql, mutation, name, id=quote["id"], token=token, **extra)
        assert errors(refused) == [("FORBIDDEN", None)], name
    assert await snapshot_table(sessionmaker, *TABLES) == before
    # reading is sales:read, which finance has
    assert (await gql(QUOTES, {}, token=token))["data"]["quotes"]["totalCount"] == 1


async def test_an_edit_racing_a_conversion_is_carried_over_or_refused(gql) -> None:
    w = await world(gql)
    outcomes = set()
    for _ in range(6):
        quote = await create(gql, w)
        valve = [{"itemId": w["valve"], "quantity": "1"}]
        edited, converted = await asyncio.gather(
            call(gql, UPDATE, "updateQuote", id=quote["id"], input={"lines": valve}),
            call(gql, CONVERT, "convertQuoteToOrder", id=quote["id"]),
        )
        assert converted["errors"] == []
        if edited["errors"]:  # converted first: the quote was ACCEPTED when the edit came
            assert errors(edited) == [("INVALID_STATE", ["id"])]
            assert converted["order"]["total"] == "39.98"
            outcomes.add("refused")
        else:  # edited first: the order has the edited line
            assert converted["order"]["total"] == "5.00"
            outcomes.add("carried over")
    assert outcomes
