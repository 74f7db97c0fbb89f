"""Input that must get a clear error: never a database error, SQL text or a masked 500.

Strings with NUL or a lone surrogate, Decimals that are not plain ASCII numbers, dates
outside 1900-01-01..2200-12-31, documents with several operations and no name. A
mutation's text problem is a UserError INVALID at the field; a value that does not
coerce (Decimal, Date, DateTime) is a GraphQL error with ``extensions.code`` INVALID,
before any resolver runs.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.integration.helpers import snapshot_table

CREATE_CUSTOMER = """
mutation($input: CustomerInput!) {
  createCustomer(input: $input) { customer { id code creditLimit } errors { code field message } }
}"""

SEARCH = "query($s: String) { customers(first: 5, search: $s) { totalCount } }"
RESCHEDULE = """
mutation($d: Date!) { rescheduleWorkOrder(id: "V29ya09yZGVyOjE=", dueDate: $d) { errors { code field } } }"""
ACTIVITIES = "query($t: DateTime) { activities(first: 1, dueBefore: $t) { totalCount } }"
LEAKS = ("SELECT", "INSERT", "asyncpg", "psycopg", "Unexpected error", "Traceback", "sqlalchemy")


async def send(http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None,
               **extra: Any) -> dict[str, Any]:
    # ensure_ascii: a lone surrogate travels as the JSON escape "\\ud800", as an attacker sends it
    body = json.dumps({"query": query, "variables": variables or {}, **extra}, ensure_ascii=True)
    response = await http.post("/graphql", content=body.encode(), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert not any(leak in response.text for leak in LEAKS), response.text
    answer: dict[str, Any] = response.json()
    return answer


def codes(answer: dict[str, Any]) -> list[str | None]:
    return [error.get("extensions", {}).get("code") for error in answer.get("errors", [])]


def customer(**fields: Any) -> dict[str, Any]:
    return {"code": "C-1", "name": "Customer one"} | fields


@pytest.mark.parametrize(("fields", "path"), [
    ({"name": "Nul\x00byte"}, ["name"]),
    ({"name": "lone \ud800 surrogate"}, ["name"]),
    ({"segment": "\udfff"}, ["segment"]),
    ({"tags": ["fine", "bad\x00"]}, ["tags", "1"]),
    ({"contacts": [{"name": "Ann"}, {"name": "Bob", "email": "b\x00@x.io"}]}, ["contacts", "1", "email"]),
])
async def test_a_mutation_refuses_text_no_column_can_store(
    http: httpx.AsyncClient, admin_token: str, sessionmaker: Any, fields: dict[str, Any], path: list[str],
) -> None:
    before = await snapshot_table(sessionmaker, "customers", "contacts")
    answer = await send(http, admin_token, CREATE_CUSTOMER, {"input": customer(**fields)})
    payload = answer["data"]["createCustomer"]
    assert payload["customer"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", path)], payload
    assert await snapshot_table(sessionmaker, "customers", "contacts") == before

    # the same text, but storable, goes through
    clean = json.loads(json.dumps(fields).replace("\\u0000", "").replace("\\ud800", "").replace("\\udfff", "C"))
    done = await send(http, admin_token, CREATE_CUSTOMER, {"input": customer(**clean)})
    assert done["data"]["createCustomer"]["errors"] == [], done


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udc00y"])
async def test_a_query_refuses_text_no_column_can_store(http: httpx.AsyncClient, admin_token: str,
                                                        text: str) -> None:
    answer = await send(http, admin_token, SEARCH, {"s": text})
    assert answer["data"] is None and codes(answer) == ["INVALID"], answer
    assert answer["errors"][0]["extensions"]["field"] == ["s"]

    # the GraphQL string literal escapes it the same way; the lexer already refuses lone surrogates
    literal = json.dumps(text)
    answer = await send(http, admin_token, f"{{ customers(first: 5, search: {literal}) {{ totalCount }} }}")
    expected = "INVALID" if "\x00" in text else "GRAPHQL_PARSE_FAILED"
    assert answer["data"] is None and codes(answer) == [expected], answer

    fine = await send(http, admin_token, SEARCH, {"s": "ab"})
    assert fine == {"data": {"customers": {"totalCount": 0}}}


@pytest.mark.parametrize("value", [
    "1e1000000", "1E3", "١٢", "1_000", " 12 ", "12 ", "12.", ".5", "+-1", "--1", "1.2.3", "NaN", "Infinity",
    "-Infinity", "0x10", "", "１２", "1" * 41, 1e300, True, [], {"v": 1},
])
async def test_decimal_takes_plain_ascii_numbers_only(http: httpx.AsyncClient, admin_token: str,
                                                      sessionmaker: Any, value: Any) -> None:
    before = await snapshot_table(sessionmaker, "customers")
    answer = await send(http, admin_token, CREATE_CUSTOMER, {"input": customer(creditLimit=value)})
    assert answer.get("data") is None and codes(answer) == ["INVALID"], answer
    assert await snapshot_table(sessionmaker, "customers") == before


async def test_decimal_literals_are_checked_alike_and_plain_numbers_pass(
    http: httpx.AsyncClient, admin_token: str,
) -> None:
    for literal in ('"1e1000000"', "1e1000000", '"1_000"', '" 12 "', "true"):
        query = ('mutation { createCustomer(input: {code: "C-9", name: "N", creditLimit: %s}) { errors { code } } }'
                 % literal)
        answer = await send(http, admin_token, query)
        assert answer["data"] is None and codes(answer) == ["INVALID"], (literal, answer)
        assert answer["errors"][0]["locations"], answer

    for index, (value, shown) in enumerate([("1250.5", "1250.50"), ("+12", "12.00"), ("0.25", "0.25"),
                                            (12, "12.00"), (7.5, "7.50"), ("007", "7.00")]):
        answer = await send(http, admin_token, CREATE_CUSTOMER, {"input": customer(code=f"C-{index}",
                                                                                    creditLimit=value)})
        assert answer["data"]["createCustomer"]["customer"]["creditLimit"] == shown, answer


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2201-01-01", "99999-01-01", "20260331",
                                   "2026-3-31", "2026-02-30", " 2026-03-31", "2026-03-31T00:00:00",
                                   "２０２６-03-31", 20260331, None])
async def test_date_takes_yyyy_mm_dd_from_1900_to_2200(http: httpx.AsyncClient, admin_token: str,
                                                       value: Any) -> None:
    answer = await send(http, admin_token, RESCHEDULE, {"d": value})
    assert answer.get("data") is None and codes(answer) == ["INVALID"], answer
    if value is not None:
        literal = json.dumps(value)
        query = RESCHEDULE.replace("mutation($d: Date!)", "mutation").replace("$d", literal)
        answer = await send(http, admin_token, query)
        assert answer["data"] is None and codes(answer) == ["INVALID"], answer


async def test_the_range_ends_are_1900_01_01_and_2200_12_31(http: httpx.AsyncClient, admin_token: str) -> None:
    for value in ("1900-01-01", "2026-03-31", "2200-12-31"):  # reach the resolver
        answer = await send(http, admin_token, RESCHEDULE, {"d": value})
        assert answer["data"]["rescheduleWorkOrder"]["errors"] == [{"code": "NOT_FOUND", "field": ["id"]}]
    for value in ("1899-12-31", "2201-01-01"):
        answer = await send(http, admin_token, RESCHEDULE, {"d": value})
        assert "1900-01-01 to 2200-12-31" in answer["errors"][0]["message"], answer


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "99999-01-01T00:00:00", "2026-03-31",
                                   "2026-03-31T25:00:00", "2026-03-31T10:00:00+2", "next tuesday",
                                   "2026-03-31T10:00:00.1234567", "2201-01-01T00:00:00Z"])
async def test_datetime_takes_iso_8601_within_the_range(http: httpx.AsyncClient, admin_token: str,
                                                        value: str) -> None:
    answer = await send(http, admin_token, ACTIVITIES, {"t": value})
    assert answer["data"] is None and codes(answer) == ["INVALID"], answer


async def test_datetime_takes_iso_8601_and_its_literals_are_checked(http: httpx.AsyncClient,
                                                                    admin_token: str) -> None:
    for value in ("2026-03-31T14:30:00Z", "2026-03-31T14:30:00+02:00", "2026-03-31T14:30", "2026-03-31 14:30:00.5"):
        answer = await send(http, admin_token, ACTIVITIES, {"t": value})
        assert answer == {"data": {"activities": {"totalCount": 0}}}, (value, answer)
    answer = await send(http, admin_token, '{ activities(first: 1, dueBefore: "0001-01-01T00:00:00") { totalCount } }')
    assert answer["data"] is None and codes(answer) == ["INVALID"], answer


async def test_several_operations_need_an_operation_name(http: httpx.AsyncClient, admin_token: str,
                                                         sessionmaker: Any) -> None:
    document = CREATE_CUSTOMER.replace("mutation(", "mutation Create(") + "\nquery Count { customers { totalCount } }"
    before = await snapshot_table(sessionmaker, "customers")
    answer = await send(http, admin_token, document, {"input": customer()})
    assert answer["data"] is None and codes(answer) == ["INVALID"], answer
    assert "operationName" in answer["errors"][0]["message"]
    assert await snapshot_table(sessionmaker, "customers") == before

    counted = await send(http, admin_token, document, {"input": customer()}, operationName="Count")
    assert counted == {"data": {"customers": {"totalCount": 0}}}
    created = await send(http, admin_token, document, {"input": customer()}, operationName="Create")
    assert created["data"]["createCustomer"]["errors"] == []
    one = await send(http, admin_token, "query Only { customers { totalCount } }")
    assert one == {"data": {"customers": {"totalCount": 1}}}


async def test_a_subscription_refuses_text_no_column_can_store(live_server: str, admin_token: str) -> None:
    from tests.integration.helpers import graphql_ws

    ws = await graphql_ws(live_server, admin_token)
    try:
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($a: String) { orderStatusChanged(after: $a) { status } }",
            "variables": {"a": "cursor\x00"}}}))
        message = json.loads(await ws.recv())
    finally:
        await ws.close()
    # refused before the resolver (which would only have found a bad cursor)
    assert message["type"] == "next" and message["payload"]["data"] is None, message
    errors = message["payload"]["errors"]
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in errors] == [("INVALID", ["a"])], errors
    assert "NUL" in errors[0]["message"]
