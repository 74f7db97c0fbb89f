"""What a compiled plan is kept by, and which requests it answers (api.compiled): a request
skips strawberry's checks only when a request of the same shape, which the same checks
answer the same way, was served before."""

from __future__ import annotations

from typing import Any

from graphql import parse

from api.compiled.extension import ReadPath
from api.compiled.planner import Plan, plan
from api.list_maxima import ListMaxima
from api.relay import encode_cursor, to_global_id
from api.schema import schema
from domain.identity.fence import fence_for
from domain.identity.scopes import ROLE_SCOPES
from domain.identity.services import Principal

QUERY = "query($n: Int) { items(first: $n) { edges { node { sku } } } }"
MAX_LENGTH = 200


def _viewer(role: str, partner: str | None = None) -> Principal:
    return Principal(name="t", role=role, scopes=ROLE_SCOPES[role], partner=partner)


def _plan(query: str, variables: dict[str, Any]) -> Plan:
    viewer = _viewer("admin")
    made = plan(schema._schema, parse(query), None, variables, viewer, fence_for(viewer), MAX_LENGTH)
    assert made is not None
    return made


def test_plans_are_kept_by_document_operation_viewer_and_the_list_maxima() -> None:
    maxima = ListMaxima()
    reads = ReadPath(pool=None, list_maxima=maxima)  # type: ignore[arg-type]  # no statement runs here
    admin = _viewer("admin")

    def key(**changes: Any) -> tuple[Any, ...]:
        given = {"query": QUERY, "operation_name": None, "viewer": admin} | changes
        return reads.key(given["query"], given["operation_name"], given["viewer"])

    first = key()
    assert key() == first
    assert key(operation_name="Items") != first
    assert key(query=QUERY + " ") != first
    assert key(viewer=_viewer("sales")) != first  # scopes: cost fields read null
    assert key(viewer=_viewer("partner", "shop")) != key(viewer=_viewer("partner", "other"))  # the fence
    # the cost limit reads the list maxima: a change of any makes every plan new
    maxima.set({"Bom.lines": 4})
    changed = key()
    assert changed != first
    maxima.set({"Bom.lines": 4})  # read again, the same: plans stay
    assert key() == changed
    maxima.set({"Bom.lines": 5})
    assert key() != changed


def test_a_plan_answers_every_page_and_every_record_but_only_for_values_of_its_shape() -> None:
    pages = _plan("query($n: Int, $a: String) { items(first: $n, after: $a) { edges { cursor } } }",
                  {"n": 2, "a": encode_cursor(7)})
    # another valid cursor: the same statement, its key bound
    assert pages.fits({"n": 2, "a": encode_cursor(99)}, MAX_LENGTH)
    assert pages.arguments({"n": 2, "a": encode_cursor(99)}) == [99]
    assert pages.arguments({"n": 2, "a": encode_cursor(7)}) == [7]
    for other in [
        {"n": 3, "a": encode_cursor(7)},  # the page size is the statement's (and the cost's)
        {"n": 2},  # no cursor: another statement
        {"n": 2, "a": None},
        {"n": 2, "a": "bad"},  # not a cursor: the resolvers report it
        {"n": 2, "a": to_global_id("Item", 7)},
        {"n": 2, "a": encode_cursor(7) + "=" * 200},  # longer than the limits allow
        {"n": 2, "a": "\x00"},  # text no column can store: the text guard refuses it
        {"n": 2, "a": 7},  # not a string
    ]:
        assert not pages.fits(other, MAX_LENGTH), other

    lookup = _plan("query($id: ID, $code: String) { customer(id: $id, code: $code) { code } }",
                   {"id": to_global_id("Customer", 3)})
    assert lookup.fits({"id": to_global_id("Customer", 4)}, MAX_LENGTH)
    assert lookup.arguments({"id": to_global_id("Customer", 4)}) == [4]
    assert not lookup.fits({"id": to_global_id("Item", 4)}, MAX_LENGTH)  # null, without a statement
    assert not lookup.fits({"id": to_global_id("Customer", 4), "code": "C-1"}, MAX_LENGTH)
    by_code = _plan("query($id: ID, $code: String) { customer(id: $id, code: $code) { code } }", {"code": "C-1"})
    assert by_code.fits({"code": "Zoë"}, MAX_LENGTH) and by_code.arguments({"code": "Zoë"}) == ["Zoë"]
    assert not by_code.fits({"code": "Zoë", "id": None}, MAX_LENGTH)  # given (null) is not absent


def test_a_variable_used_any_other_way_is_part_of_the_shape() -> None:
    query = ("query($a: String, $on: Boolean!) { items(after: $a) { totalCount @include(if: $on) }"
             " customers(after: $a) { totalCount } }")
    made = _plan(query, {"a": encode_cursor(1), "on": True})
    assert made.fits({"a": encode_cursor(5), "on": True}, MAX_LENGTH)
    assert not made.fits({"a": encode_cursor(5), "on": False}, MAX_LENGTH)
    # a cursor used in two places is still a slot; a variable the plan never reads must still coerce
    unused = _plan("query($a: String, $x: Int) { items { totalCount } }", {"a": "anything", "x": 1})
    assert unused.fits({"a": "anything", "x": 1}, MAX_LENGTH)
    assert not unused.fits({"a": "anything else", "x": 1}, MAX_LENGTH)
    assert not unused.fits({"a": "anything", "x": 2}, MAX_LENGTH)
