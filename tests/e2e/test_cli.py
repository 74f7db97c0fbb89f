"""The `erpgraph` console script, run as a user would: real processes, real servers."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from tests.e2e.processes import STOP_TIMEOUT, cli_env, erpgraph, free_port, post_graphql, running, wait_until_up

NOT_MIGRATED = "erpgraph: database is not migrated; run `erpgraph migrate`\n"


def _one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("erpgraph: "), result.stderr
    return result.stderr


def test_unknown_role_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = erpgraph("token", "create", "--name", "x", "--role", "boss",
                      env=cli_env(tmp_path), cwd=tmp_path)
    assert "unknown role 'boss'" in _one_line_error(result, 2)


def test_serve_needs_both_urls(tmp_path: Path) -> None:
    result = erpgraph("serve", env=cli_env(tmp_path), cwd=tmp_path)
    assert _one_line_error(result, 2) == "erpgraph: DATABASE_URL and REDIS_URL must be set\n"


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = cli_env(tmp_path, DATABASE_URL=f"postgresql://nobody@127.0.0.1:{free_port()}/x",
               REDIS_URL="redis://127.0.0.1:1/0")
    for command in (("serve",), ("migrate",), ("token", "create", "--name", "a", "--role", "admin")):
        assert "cannot use the database" in _one_line_error(erpgraph(*command, env=env, cwd=tmp_path), 1)


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    from api.schema import schema

    result = erpgraph("export-schema", env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "schema.graphql").read_text() == schema.as_str() + "\n"

    result = erpgraph("export-schema", "--output", "out/s.graphql", env=cli_env(tmp_path), cwd=tmp_path)
    assert "cannot write out/s.graphql" in _one_line_error(result, 1)
    (tmp_path / "out").mkdir()
    result = erpgraph("export-schema", "--output", "out/s.graphql", env=cli_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "out/s.graphql").exists()


def test_production_lifecycle(tmp_path: Path, empty_database: str, cli_redis_url: str) -> None:
    """Unmigrated: refuse. Migrate (twice). Token. Serve, answer, stop on SIGTERM with 0."""
    env = cli_env(tmp_path, DATABASE_URL=empty_database, REDIS_URL=cli_redis_url,
               ERPGRAPH_ENV="production")
    for command in (("serve",), ("worker",), ("token", "create", "--name", "a", "--role", "admin")):
        assert _one_line_error(erpgraph(*command, env=env, cwd=tmp_path), 1) == NOT_MIGRATED

    for _ in range(2):
        result = erpgraph("migrate", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr

    result = erpgraph("token", "create", "--name", "ci", "--role", "sales", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and token.startswith("eg_")

    port = free_port()
    with running(["serve", "--port", str(port)], env, tmp_path) as process:
        wait_until_up(port, process)
        body = post_graphql(port, token, "{ viewer { name } }")
        assert body["data"]["viewer"]["name"] == "ci"
        process.send_signal(signal.SIGTERM)
        assert process.wait(STOP_TIMEOUT) == 0


def test_dev_migrates_seeds_serves_and_stops_on_ctrl_c(
    tmp_path: Path, empty_database: str, cli_redis_url: str
) -> None:
    env = cli_env(tmp_path, DATABASE_URL=empty_database, REDIS_URL=cli_redis_url)
    port = free_port()
    with running(["dev", "--port", str(port)], env, tmp_path) as process:
        wait_until_up(port, process)
        token_file = tmp_path / "data" / "dev-admin-token"
        token = token_file.read_text().strip()
        assert token_file.stat().st_mode & 0o777 == 0o600
        body = post_graphql(port, token, "{ viewer { name } items(first: 5) { totalCount } }")
        assert body["data"] == {"viewer": {"name": "dev admin"}, "items": {"totalCount": 50}}
        process.send_signal(signal.SIGINT)
        assert process.wait(STOP_TIMEOUT) == 0
    output = (tmp_path / "dev.log").read_text()
    assert f"http://127.0.0.1:{port}/graphql?token={token}" in output


def test_a_second_dev_on_the_same_data_dir_refuses_to_start(
    tmp_path: Path, empty_database: str, cli_redis_url: str
) -> None:
    env = cli_env(tmp_path, DATABASE_URL=empty_database, REDIS_URL=cli_redis_url)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "erpgraph.lock").write_text("999999999\n")  # left by a crash: no one holds it
    port = free_port()
    with running(["dev", "--port", str(port)], env, tmp_path) as first:
        wait_until_up(port, first)
        second = erpgraph("dev", "--port", str(free_port()), env=env, cwd=tmp_path)
        assert _one_line_error(second, 1) == f"erpgraph: {data_dir} is in use by pid {first.pid}\n"
        token = (data_dir / "dev-admin-token").read_text().strip()
        assert post_graphql(port, token, "{ viewer { name } }")["data"]["viewer"]["name"] == "dev admin"
        first.send_signal(signal.SIGINT)
        assert first.wait(STOP_TIMEOUT) == 0
    assert sorted(path.name for path in data_dir.iterdir()) == ["dev-admin-token"]


def test_dev_on_embedded_servers_removes_its_temporary_files(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    data_dir = tmp_path / "data"
    port = free_port()
    with running(["dev", "--port", str(port), "--no-demo"], env, tmp_path) as process:
        wait_until_up(port, process)
        redis_temp = Path(json.loads((data_dir / "redis" / "redis.db.settings").read_text())["unixsocket"]).parent
        assert redis_temp.is_dir() and (data_dir / "erpgraph.lock").exists()
        process.send_signal(signal.SIGINT)
        assert process.wait(STOP_TIMEOUT) == 0
    assert not redis_temp.exists()
    assert not (data_dir / "redis" / "redis.db.settings").exists()
    assert not (data_dir / "erpgraph.lock").exists()
    assert not (data_dir / "pg" / "postmaster.pid").exists()  # PostgreSQL stopped
