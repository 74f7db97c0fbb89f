"""The authorization matrix: every field and mutation of the schema is declared, the
declaration is what the code enforces, every role gets what the table says, and the role
table in docs/security.md is the one generated from the declarations."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from graphql import GraphQLError

from api import authorization, authorization_table
from api.schema import schema
from domain.identity.scopes import ROLE_SCOPES, Scope

ROOT = Path(__file__).resolve().parents[2]
GRAPH = schema._schema


class Reached(Exception):
    """The check let the viewer through: the resolver went on to its work."""


class Untouchable:
    """A source, context part or sessionmaker that must not be used before the check passes."""

    def __getattr__(self, name: str) -> Any:
        raise Reached(name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise Reached("called")


class FakeContext(Untouchable):
    def __init__(self, role: str) -> None:
        scopes = ROLE_SCOPES[role]
        self.principal = SimpleNamespace(name=f"{role}-user", role=role, scopes=scopes,
                                         can=lambda scope: scope in scopes)
        self.viewer = self.principal
        self.settings = None
        self.sessionmaker = Untouchable()


def info_of(role: str) -> Any:
    return SimpleNamespace(context=FakeContext(role))


def field(key: str) -> Any:
    type_name, _, name = key.partition(".")
    return GRAPH.type_map[type_name].fields[name].extensions["strawberry-definition"]


async def outcome(resolver: Any, info: Any) -> Any:
    try:
        result = resolver(Untouchable(), info=info)
        return await result if inspect.isawaitable(result) else result
    except Reached:
        return Reached


def test_every_field_and_mutation_is_declared_as_the_code_enforces() -> None:
    assert authorization.differences(GRAPH) == []
    code = authorization.enforced(GRAPH)
    assert len(code) > 500 and all(f"Mutation.{name}" in code for name in GRAPH.type_map["Mutation"].fields)


def test_a_new_or_changed_permission_without_its_declaration_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {type_name: dict(rules) for type_name, rules in authorization_table.DECLARED.items()}
    table["Mutation"]["needs crm:write"] = " ".join(
        name for name in table["Mutation"]["needs crm:write"].split() if name != "createCustomer")
    table["Item"] = {key: value.replace("standardCost", "") for key, value in table["Item"].items()}
    table["Item"]["public"] += " standardCost"
    table["Customer"]["public"] += " secretField"
    monkeypatch.setattr(authorization_table, "DECLARED", table)
    assert authorization.differences(GRAPH) == [
        "Customer.secretField: declared (public) but not in the schema",
        "Item.standardCost: declared public, the code enforces hidden costing:read",
        "Mutation.createCustomer: not declared (the code enforces: needs crm:write)",
    ]


@pytest.mark.parametrize("role", list(ROLE_SCOPES))
async def test_every_role_gets_what_the_table_declares(role: str) -> None:
    """Each restricted field and mutation, run for the role with a context that shows
    whether the check let it through (it then reaches its work and raises Reached)."""
    scopes = ROLE_SCOPES[role]
    checked = 0
    for key, rule in authorization.declared().items():
        if rule.kind in ("public", "per-object"):
            continue
        definition = field(key)
        allowed = rule.allows(scopes)
        info = info_of(role)
        if definition.permission_classes:
            (permission,) = definition.permission_classes
            assert permission().has_permission(None, info) is allowed, (key, role)
        elif key.startswith("Mutation."):
            try:
                payload = await definition.base_resolver.wrapped_func(None, info=info)
            except Reached:
                assert allowed, f"{role} ran {key}"
            else:
                assert not allowed and [e.code.value for e in payload.errors] == ["FORBIDDEN"], (key, role)
        elif key.startswith("Subscription."):
            stream = definition.base_resolver.wrapped_func(None, info=info)
            with pytest.raises((Reached, GraphQLError)) as raised:
                await stream.__anext__()
            assert (raised.type is Reached) is allowed, (key, role)
            if not allowed:
                assert raised.value.extensions == {"code": "FORBIDDEN"}
        else:  # hidden: null or empty without the scope
            assert rule.kind == "hidden"
            resolver = definition.base_resolver.wrapped_func
            got = await outcome(resolver, info)
            if allowed:  # what the resolver itself answers (Reached, once it touches the source)
                assert got == await outcome(resolver.__wrapped__, info), (key, role)
            else:
                assert got in (None, []), (key, role, got)
        checked += 1
    assert checked > 80  # 53 mutations and the restricted fields


def test_partner_and_sales_see_no_cost_field() -> None:
    costs = [key for key, rule in authorization.declared().items() if Scope.COSTING_READ in rule.scopes]
    assert sorted(costs) == [
        "Customer.profitability", "Item.averageCost", "Item.bomCost", "Item.rolledUpCost",
        "Item.standardCost", "Item.stockValue", "PurchaseOrderLine.unitCost", "QuoteSimulation.cost",
        "QuoteSimulation.margin", "QuoteSimulation.marginPercent", "SalesOrder.margin",
        "SimulatedQuoteLine.unitCost", "WorkOrder.cost",
    ]
    for role in ("sales", "partner", "planner"):
        assert not any(authorization.declared()[key].allows(ROLE_SCOPES[role]) for key in costs)


def test_the_role_table_in_docs_is_generated_from_the_declarations() -> None:
    document = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert authorization.ROLES_BEGIN in document
    assert authorization.with_role_table(document) == document, "the role table is stale: run scripts/role-table"
