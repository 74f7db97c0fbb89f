"""Production mode: the default of `erpgraph serve` and `erpgraph worker`, and what it hides.

In production (ERPGRAPH_ENV unset for serve and worker, or `production`): no GraphiQL,
no introspection, unexpected errors masked, and no suggestion ("Did you mean ...?") for
fields, arguments, types, enum values or input fields, whether they come from
validation or from the variables.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from erpgraph import cli
from erpgraph.settings import Settings
from tests.e2e.conftest import cli_redis_url, empty_database  # noqa: F401 - fixtures
from tests.e2e.processes import cli_env, erpgraph, free_port, running, wait_until_up

MISTAKES: list[tuple[str, str, dict[str, Any]]] = [
    ("field", "{ viewr { name } }", {}),
    ("argument", "{ salesOrders(firts: 1) { totalCount } }", {}),
    ("type", "query($s: [OrderStatuss!]) { salesOrders(status: $s) { totalCount } }", {}),
    ("enum value", "{ salesOrders(status: [DRAFF]) { totalCount } }", {}),
    ("input field", 'mutation { createCustomer(input: {code: "A", nam: "B"}) { errors { code } } }', {}),
    ("enum value in a variable", "query($s: [OrderStatus!]) { salesOrders(status: $s) { totalCount } }",
     {"s": ["DRAFF"]}),
    ("input field in a variable", "mutation($i: CustomerInput!) { createCustomer(input: $i) { errors { code } } }",
     {"i": {"code": "A", "name": "B", "nam": "C"}}),
]


@pytest.fixture
async def production_http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from api.app import create_app

    application = create_app(settings.model_copy(update={"env": "production"}))
    async with application.router.lifespan_context(application), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://test"
    ) as client:
        yield client


async def _messages(http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]) -> str:
    response = await http.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert errors, response.text
    return " | ".join(error["message"] for error in errors)


async def test_production_suggests_nothing(
    http: httpx.AsyncClient, production_http: httpx.AsyncClient, admin_token: str,
) -> None:
    for what, query, variables in MISTAKES:
        # development helps (each mistake is a near miss); production says only what is wrong
        assert "Did you mean" in await _messages(http, admin_token, query, variables), what
        hidden = await _messages(production_http, admin_token, query, variables)
        assert "Did you mean" not in hidden and hidden.strip(), (what, hidden)


async def test_a_literal_python_cannot_convert_is_the_clients_error_not_masked(
    production_http: httpx.AsyncClient, admin_token: str,
) -> None:
    message = await _messages(production_http, admin_token, "{ items(first: %s) { totalCount } }" % ("1" * 5000), {})
    assert "Unexpected error" not in message and "Int" in message, message


def _handler_settings(monkeypatch: pytest.MonkeyPatch, command: str, env: str | None) -> Any:
    """Run `erpgraph <command>`'s handler with the servers stubbed; the settings it ran with."""
    import uvicorn
    from arq import worker

    import erpgraph.dev
    import erpgraph.server
    import workers.settings

    monkeypatch.setenv("ERPGRAPH_ENV", "x")  # recorded, so the test restores whatever the handler sets
    if env is None:
        monkeypatch.delenv("ERPGRAPH_ENV")
    else:
        monkeypatch.setenv("ERPGRAPH_ENV", env)
    seen: list[Any] = []

    async def preflight(settings: Any) -> None:
        seen.append(settings)

    monkeypatch.setattr(erpgraph.server, "preflight", preflight)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.append(Settings()))  # what workers read
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)
    monkeypatch.setattr(workers.settings, "worker_settings", lambda settings: settings)
    monkeypatch.setattr(worker, "run_worker", lambda settings: seen.append(settings))
    monkeypatch.setattr(erpgraph.dev, "run", lambda settings, **kwargs: seen.append(settings) or 0)
    args: argparse.Namespace = cli.build_parser().parse_args([command])
    assert args.handler(args) == 0
    assert seen and len({each.env for each in seen}) == 1, seen
    return seen[0]


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_default_to_production(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    assert _handler_settings(monkeypatch, command, None).production
    assert _handler_settings(monkeypatch, command, "").production
    assert not _handler_settings(monkeypatch, command, "development").production
    assert not _handler_settings(monkeypatch, command, "dev").production
    assert _handler_settings(monkeypatch, command, "production").production


def test_dev_stays_development(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _handler_settings(monkeypatch, "dev", None).env == "development"
    assert Settings(ERPGRAPH_ENV="dev").env == "development"
    assert Settings(ERPGRAPH_ENV="prod").production


def test_a_served_api_without_erpgraph_env_is_in_production(
    tmp_path: Path, empty_database: str, cli_redis_url: str,  # noqa: F811 - fixtures
) -> None:
    env = cli_env(tmp_path, DATABASE_URL=empty_database, REDIS_URL=cli_redis_url)
    del env["ERPGRAPH_ENV"]
    assert erpgraph("migrate", env=env, cwd=tmp_path).returncode == 0
    token = erpgraph("token", "create", "--name", "p", "--role", "admin", env=env, cwd=tmp_path).stdout.strip()
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"
    auth = {"Authorization": f"Bearer {token}"}
    with running(["serve", "--port", str(port)], env, tmp_path) as process:
        wait_until_up(port, process)
        assert httpx.get(url, headers={"Accept": "text/html"}).status_code == 401  # no GraphiQL page
        introspection = httpx.post(url, json={"query": "{ __schema { types { name } } }"}, headers=auth).json()
        assert "introspection has been disabled" in introspection["errors"][0]["message"]
        typo = httpx.post(url, json={"query": "{ salesOrders(firts: 1) { totalCount } }"}, headers=auth).json()
        assert "Did you mean" not in typo["errors"][0]["message"], typo
