"""``@command``: what a resolver's failures become in the payload (no database needed)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.orm.exc import StaleDataError

from api.errors import UserError
from api.permissions import Command, command
from domain.identity.scopes import Scope
from domain.identity.services import Principal
from domain.shared.errors import DomainError, ErrorCode
from erpgraph.settings import Settings


@dataclass
class Payload:
    value: str | None = None
    errors: list[UserError] = field(default_factory=list)


class FakeSessionmaker:
    """Stands in for the unit of work's ``sessionmaker.begin()``; records what happened."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[object]:
        try:
            yield object()
        except BaseException:
            self.outcomes.append("rolled back")
            raise
        self.outcomes.append("committed")


def info(scopes: set[Scope]) -> Any:
    principal = Principal(name="tester", role="custom", scopes=frozenset(scopes))
    context = SimpleNamespace(sessionmaker=FakeSessionmaker(), settings=Settings(ERPGRAPH_ENV="test"),
                              principal=principal, viewer=principal)
    return SimpleNamespace(context=context)


@command(Scope.CRM_WRITE, Scope.FINANCE_WRITE)
async def resolver(cmd: Command, fail: BaseException | None = None, field_scope: Scope | None = None) -> Payload:
    if field_scope is not None:
        cmd.require(field_scope, "creditLimit")
    if fail is not None:
        raise fail
    return Payload(value="done")


def codes(payload: Payload) -> list[tuple[str, list[str] | None]]:
    return [(str(e.code), e.field) for e in payload.errors]


async def test_any_of_the_scopes_lets_the_resolver_run() -> None:
    for scopes in ({Scope.CRM_WRITE}, {Scope.FINANCE_WRITE}):
        call = info(scopes)
        assert (await resolver(info=call)).value == "done"
        assert call.context.sessionmaker.outcomes == ["committed"]


async def test_none_of_the_scopes_is_forbidden_before_any_work() -> None:
    call = info({Scope.SALES_WRITE})
    payload = await resolver(info=call)
    assert codes(payload) == [("FORBIDDEN", None)] and "crm:write or finance:write" in payload.errors[0].message
    assert call.context.sessionmaker.outcomes == []


async def test_a_field_needing_another_scope_is_forbidden_on_that_field() -> None:
    call = info({Scope.CRM_WRITE})
    payload = await resolver(info=call, field_scope=Scope.FINANCE_WRITE)
    assert codes(payload) == [("FORBIDDEN", ["creditLimit"])]
    assert call.context.sessionmaker.outcomes == ["rolled back"]


@pytest.mark.parametrize(("failure", "expected"), [
    (DomainError.one(ErrorCode.INVALID_STATE, "no", ["id"]), [("INVALID_STATE", ["id"])]),
    (StaleDataError("UPDATE statement on table 'x' expected to update 1 row(s); 0 were matched."),
     [("CONFLICT", None)]),
])
async def test_failures_roll_back_and_become_errors(failure: BaseException, expected: list[Any]) -> None:
    call = info({Scope.CRM_WRITE})
    payload = await resolver(info=call, fail=failure)
    assert codes(payload) == expected and "UPDATE statement" not in payload.errors[0].message
    assert call.context.sessionmaker.outcomes == ["rolled back"]
