"""What a compiled plan is kept by: a request skips strawberry's checks only when the same
request with the same answer to every check was served before (api.compiled.extension)."""

from __future__ import annotations

from typing import Any

from api.compiled.extension import ReadPath
from api.list_maxima import ListMaxima
from domain.identity.scopes import ROLE_SCOPES
from domain.identity.services import Principal

QUERY = "query($n: Int) { items(first: $n) { edges { node { sku } } } }"


def _viewer(role: str, partner: str | None = None) -> Principal:
    return Principal(name="t", role=role, scopes=ROLE_SCOPES[role], partner=partner)


def test_a_plan_is_kept_by_document_operation_variables_viewer_and_the_list_maxima() -> None:
    maxima = ListMaxima()
    reads = ReadPath(pool=None, list_maxima=maxima)  # type: ignore[arg-type]  # no statement runs here
    admin = _viewer("admin")

    def key(**changes: Any) -> tuple[Any, ...]:
        given = {"query": QUERY, "operation_name": None, "variables": {"n": 2}, "viewer": admin} | changes
        return reads.key(given["query"], given["operation_name"], given["variables"], given["viewer"])

    first = key()
    assert key() == first
    assert key(variables={"n": 2}) == first
    assert key(variables={"n": 3}) != first
    assert key(variables=None) != first
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
