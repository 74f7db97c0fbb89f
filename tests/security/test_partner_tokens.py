"""A partner token is bound to one integration name: required for role partner, refused
for the others, carried by the principal, and existing partner tokens are bound on upgrade."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from domain.identity.services import authenticate, create_token
from domain.shared.db import make_engine
from domain.shared.errors import DomainError
from tests.e2e.processes import cli_env, erpgraph


@pytest.mark.parametrize(("role", "partner", "message"), [
    ("partner", None, "is required"),
    ("partner", "  ", "must not be blank"),
    ("partner", "a b;drop", "must be letters, digits, '.', '_' or '-'"),
    ("partner", "x" * 41, "must be at most 40 characters"),
    ("sales", "alpha", "only a token of role partner names a partner"),
])
async def test_the_partner_name_is_required_for_partners_and_refused_for_others(
    sessionmaker: Any, role: str, partner: str | None, message: str
) -> None:
    async with sessionmaker.begin() as session:
        with pytest.raises(DomainError) as refused:
            await create_token(session, "bot", role, partner)
    problem = refused.value.problems[0]
    assert (problem.code, problem.field, problem.message) == ("INVALID", ("partner",), message)


async def test_the_principal_and_the_viewer_carry_the_partner(gql: Any, sessionmaker: Any) -> None:
    async with sessionmaker.begin() as session:
        token = await create_token(session, "alpha-bot", "partner", " alpha ")
    async with sessionmaker() as session:
        principal = await authenticate(session, token)
    assert principal is not None and (principal.role, principal.partner) == ("partner", "alpha")
    viewer = (await gql("{ viewer { role partner scopes } }", token=token))["data"]["viewer"]
    assert (viewer["role"], viewer["partner"]) == ("partner", "alpha")
    assert not {"sales:fulfil", "pipeline:read", "credit:read", "finance:read"} & set(viewer["scopes"])
    admin = (await gql("{ viewer { partner } }"))["data"]["viewer"]
    assert admin["partner"] is None


async def test_the_database_refuses_a_partner_token_without_a_partner(sessionmaker: Any) -> None:
    from sqlalchemy.exc import IntegrityError

    for role, partner in (("partner", None), ("sales", "alpha")):
        with pytest.raises(IntegrityError):
            async with sessionmaker.begin() as session:
                await session.execute(text(
                    "INSERT INTO api_tokens (name, role, partner, token_hash) VALUES ('x', :role, :partner, :hash)"
                ), {"role": role, "partner": partner, "hash": f"{role:0<64}"[:64]})


async def test_upgrade_binds_existing_partner_tokens_and_starts_the_credit_history(database_url: str) -> None:
    from alembic import command

    from erpgraph.migrate import alembic_config, upgrade

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0012")
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO api_tokens (name, role, token_hash) VALUES "
                "('ERP connector #1', 'partner', repeat('a', 64)), ('bob', 'sales', repeat('b', 64))"
            ))
            await conn.execute(text(
                "INSERT INTO customers (code, name, credit_limit) VALUES ('OLD', 'Old', 500), ('NONE', 'None', 0)"
            ))
        await asyncio.to_thread(upgrade, database_url)
        async with engine.connect() as conn:
            tokens = (await conn.execute(text("SELECT name, partner FROM api_tokens ORDER BY id"))).all()
            history = (await conn.execute(text(
                "SELECT c.code, h.previous_limit, h.new_limit, h.changed_by FROM credit_limit_changes h "
                "JOIN customers c ON c.id = h.customer_id"
            ))).all()
    finally:
        await engine.dispose()
    assert [tuple(t) for t in tokens] == [("ERP connector #1", "ERP-connector-1"), ("bob", None)]
    assert [(h[0], h[1], str(h[2]), h[3]) for h in history] == [("OLD", None, "500.00", "migration")]


@pytest.mark.parametrize(("args", "message"), [
    (("--role", "partner"), "a token of role 'partner' needs --partner NAME"),
    (("--role", "sales", "--partner", "alpha"), "a token of role 'sales' takes no --partner"),
])
def test_the_cli_refuses_in_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = erpgraph("token", "create", "--name", "x", *args, env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"erpgraph: {message}\n"
