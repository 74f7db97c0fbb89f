"""GraphQL over HTTP: media types, status codes, and bodies that must get a JSON 400.

The audit runs graphql-http's ``auditServer`` (npm) against a real ``erpgraph serve``;
the other tests pin the same rules in process, so they run where node is missing too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import cli_redis_url, empty_database  # noqa: F401 - fixtures
from tests.e2e.processes import cli_env, erpgraph, free_port, running, wait_until_up

AUDIT_DIR = Path(__file__).with_name("http-audit")
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def post(http: httpx.AsyncClient, token: str, body: Any, *, accept: str | None = None,
               raw: bytes | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if accept is not None:
        headers["Accept"] = accept
    content = raw if raw is not None else json.dumps(body).encode()
    return await http.post("/graphql", content=content, headers=headers)


def json_error(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] in ("application/json", GRAPHQL_RESPONSE)
    body = response.json()
    assert isinstance(body, dict) and body["errors"], body
    assert "Traceback" not in response.text and "Internal Server Error" not in response.text
    return list(body["errors"])


async def test_the_client_gets_the_media_type_it_accepts(http: httpx.AsyncClient, admin_token: str) -> None:
    query = {"query": "{ __typename }"}
    for accept, expected in (
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
    ):
        response = await post(http, admin_token, query, accept=accept)
        assert response.status_code == 200, (accept, response.text)
        assert response.headers["content-type"] == f"{expected}; charset=utf-8", accept
        assert response.json() == {"data": {"__typename": "Query"}}

    with_bom = await post(http, admin_token, None, raw=b'\xef\xbb\xbf{"query": "{ __typename }"}')
    assert with_bom.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(("name", "body"), [
    ("parse", {"query": "{ __typename"}),
    ("validation", {"query": "{ noSuchField }"}),
    ("coercion", {"query": "query($n: Int!) { items(first: $n) { totalCount } }", "variables": {"n": "x"}}),
    ("several operations", {"query": "query A { __typename } query B { __typename }"}),
])
async def test_a_request_error_is_400_without_data_under_graphql_response_json(
    http: httpx.AsyncClient, admin_token: str, name: str, body: dict[str, Any],
) -> None:
    response = await post(http, admin_token, body, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    answer = response.json()
    assert "data" not in answer and answer["errors"], answer

    # application/json keeps 200 and data: null (the spec's rule for legacy clients)
    legacy = await post(http, admin_token, body, accept="application/json")
    assert legacy.status_code == 200 and legacy.json()["data"] is None and legacy.json()["errors"]

    # executed, a field error is a partial result: 200 with data
    response = await post(http, admin_token, {"query": '{ __typename node(id: "garbage") { id } }'},
                          accept=GRAPHQL_RESPONSE)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["__typename"] == "Query"


@pytest.mark.parametrize(("name", "raw"), [
    ("a number", b"42"),
    ("a list (batching is off)", b'[{"query": "{ __typename }"}]'),
    ("a string", b'"{ __typename }"'),
    ("null", b"null"),
    ("true", b"true"),
    ("not UTF-8", b'{"query": "{ __typename }", "operationName": "\xff\xfe"}'),
    ("not JSON", b'{"query": '),
    ("an integer of 5,000 digits", b'{"query": "{ __typename }", "variables": {"n": ' + b"1" * 5000 + b"}}"),
    ("variables 1,000 deep", b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 1000 + b"]" * 1000 + b"}}"),
    ("variables 100 deep", b'{"query": "{ __typename }", "variables": {"v": ' + b'{"a": ' * 100 + b"1"
     + b"}" * 100 + b"}}"),
])
async def test_a_body_that_is_not_a_json_object_gets_a_json_400(
    http: httpx.AsyncClient, admin_token: str, name: str, raw: bytes,
) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE):
        errors = json_error(await post(http, admin_token, None, raw=raw, accept=accept), 400)
        assert errors[0]["message"], errors


async def test_other_http_refusals_are_json_too(http: httpx.AsyncClient, admin_token: str) -> None:
    auth = {"Authorization": f"Bearer {admin_token}", "Accept": "application/json"}
    json_error(await http.post("/graphql", content=b"{ __typename }",
                               headers=auth | {"Content-Type": "text/plain"}), 400)
    json_error(await http.get("/graphql", headers=auth), 400)  # no query
    json_error(await http.post("/graphql", json={"qeury": "{ __typename }"}, headers=auth), 400)
    mutation = await http.get("/graphql", params={"query": "mutation { __typename }"}, headers=auth)
    json_error(mutation, 405)
    put = await http.put("/graphql", json={"query": "{ __typename }"}, headers=auth)
    assert json_error(put, 405) and put.headers["allow"] == "GET, POST"


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


# The audit's variables checks ask for ``__type(name: $name)``: introspection, which
# production refuses (a request error, as it should be).
NEED_INTROSPECTION = {"2EA1", "28B9", "D6D5", "6A70"}


def test_graphql_http_audit_passes_61_of_61(
    tmp_path: Path, empty_database: str, cli_redis_url: str,  # noqa: F811 - fixtures
) -> None:
    """61 of 61 in development; in production (serve's default) all but the introspection ones."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run graphql-http's auditServer")
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        installed = _run([npm, "ci", "--no-audit", "--no-fund"], AUDIT_DIR, 300)
        assert installed.returncode == 0, installed.stderr

    env = cli_env(tmp_path, DATABASE_URL=empty_database, REDIS_URL=cli_redis_url)
    assert erpgraph("migrate", env=env, cwd=tmp_path).returncode == 0
    created = erpgraph("token", "create", "--name", "audit", "--role", "admin", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()

    def audit(env: dict[str, str]) -> list[dict[str, Any]]:
        port = free_port()
        with running(["serve", "--port", str(port)], env, tmp_path) as process:
            wait_until_up(port, process)
            done = _run([node, "audit.mjs", f"http://127.0.0.1:{port}/graphql", token], AUDIT_DIR, 120)
        assert done.returncode == 0, done.stderr
        results: list[dict[str, Any]] = json.loads(done.stdout)
        assert len(results) == 61
        return [result for result in results if result["status"] != "ok"]

    failed = audit(env)
    assert failed == [], json.dumps(failed, indent=2)

    del env["ERPGRAPH_ENV"]  # as deployed: serve runs in production
    failed = audit(env)
    assert {result["id"] for result in failed} <= NEED_INTROSPECTION, json.dumps(failed, indent=2)
    assert all("introspection has been disabled" in result["body"] for result in failed), failed
