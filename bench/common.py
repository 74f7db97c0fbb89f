"""Shared benchmark plumbing: servers, a scratch database, erpgraph processes, timing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from erpgraph.embedded import embedded_services
from erpgraph.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """DATABASE_URL / REDIS_URL when set, embedded servers otherwise."""
    with tempfile.TemporaryDirectory(prefix="erpgraph-bench-") as tmp:
        with embedded_services(Path(tmp), os.environ.get("DATABASE_URL"),
                               os.environ.get("REDIS_URL")) as svc:
            assert svc.database_url and svc.redis_url
            yield svc.database_url, svc.redis_url


@contextlib.asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    name = f"erpgraph_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        url = with_database(server_url, name)
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def api_process(database_url: str, redis_url: str, workers: int = 1) -> AsyncIterator[str]:
    """`erpgraph serve` in production mode, in its own process(es): its base URL."""
    async with serve_process(database_url, redis_url, workers) as (base, _):
        yield base


@dataclass
class Spawned:
    """An ``erpgraph`` command running in its own process, and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def erpgraph_process(args: Sequence[str], env: Mapping[str, str]) -> Iterator[Spawned]:
    """``erpgraph ARGS`` in its own process, stopped (SIGTERM, then SIGKILL) at the end."""
    with spawned_process([sys.executable, "-m", "erpgraph.cli", *args], env, args[0]) as spawned:
        yield spawned


@contextlib.contextmanager
def spawned_process(command: Sequence[str], env: Mapping[str, str], name: str,
                    cwd: Path = ROOT) -> Iterator[Spawned]:
    """``command`` in its own process, stopped (SIGTERM, then SIGKILL) at the end.

    Its output goes to a file: a pipe nobody reads fills up and stalls it.
    """
    log = tempfile.NamedTemporaryFile(prefix=f"erpgraph-bench-{name}-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        list(command), env=dict(env), cwd=cwd,
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        yield Spawned(proc, Path(log.name))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)


@contextlib.asynccontextmanager
async def serve_process(database_url: str, redis_url: str, workers: int = 1,
                        settings: Mapping[str, str] | None = None) -> AsyncIterator[tuple[str, int]]:
    """`erpgraph serve` in production mode, in its own process(es): (base URL, pid).

    ``settings`` adds environment variables (``ERPGRAPH_...``) to compare configurations.
    """
    port = free_port()
    env = os.environ | {"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                        "ERPGRAPH_ENV": "production"} | dict(settings or {})
    with erpgraph_process(["serve", "--port", str(port), "--workers", str(workers)], env) as server:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(server, lambda client: client.get(base + "/health"))
        yield base, server.process.pid


async def wait_ready(server: Spawned, probe: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
                     seconds: float = 30) -> None:
    """Until ``probe`` answers 200 (a server that exits or never answers raises)."""
    async with httpx.AsyncClient() as client:
        for _ in range(int(seconds * 10)):
            if server.process.poll() is not None:
                raise RuntimeError(f"server exited: {server.output()}")
            with contextlib.suppress(httpx.TransportError):
                if (await probe(client)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server not ready after {seconds:.0f} s: {server.output()}")


@dataclass
class Figures:
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        return statistics.quantiles(self.latencies, n=100)[int(p) - 1] * 1000

    def line(self, label: str) -> str:
        return (f"{label:<34} {self.rate:9.1f} req/s   p50 {self.pct(50):7.1f} ms   "
                f"p95 {self.pct(95):7.1f} ms   ({self.requests} requests)")


async def load(clients: int, seconds: float, call: Callable[[int, int], Awaitable[None]],
               warmup: float = 1.0) -> Figures:
    """``clients`` loops calling ``call(client, n)`` for ``seconds`` after a warm-up."""
    latencies: list[float] = []
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + seconds

    async def client(index: int) -> None:
        n = 0
        while (now := time.perf_counter()) < stop:
            await call(index, n)
            done = time.perf_counter()
            if now >= measure_from:
                latencies.append(done - now)
            n += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    return Figures(len(latencies), time.perf_counter() - measure_from, latencies)


WRK_SCRIPT = r"""
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  bodies = {}
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  nthreads = tonumber(args[2])
  n = id - nthreads
  failed = 0
end
function request()
  n = n + nthreads
  return wrk.format("POST", nil, nil, bodies[(n % #bodies) + 1])
end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, ok_marker, 1, true) then failed = failed + 1 end
end
function done(summary, latency, requests)
  local f = 0
  for _, t in ipairs(threads) do f = f + t:get("failed") end
  io.write(string.format("WRK %d %.6f %.3f %.3f %.3f %d\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, f))
end
"""


@dataclass
class WrkFigures:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    failed: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self, label: str) -> str:
        return (f"{label:<34} {self.rate:9.1f} req/s   p50 {self.p50_ms:7.1f} ms   "
                f"p95 {self.p95_ms:7.1f} ms   ({self.requests} requests, wrk)")


async def wrk_load(url: str, token: str, bodies: list[str], ok_marker: str, clients: int,
                   seconds: float, *, each_once: bool = True) -> WrkFigures:
    """POST ``bodies`` (each at most once) with wrk, a C load generator: unlike an
    in-process Python client it leaves the two cores to the server being measured.

    Reads may repeat a body (``each_once=False``): wrk then cycles through them.
    """
    threads = 1
    with tempfile.TemporaryDirectory(prefix="erpgraph-wrk-") as tmp:
        script, data = Path(tmp) / "post.lua", Path(tmp) / "bodies.txt"
        script.write_text(f"ok_marker = {ok_marker!r}\n" + WRK_SCRIPT)
        data.write_text("\n".join(bodies) + "\n")
        proc = await asyncio.create_subprocess_exec(
            "wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "30s",
            "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/json",
            "-s", str(script), url, "--", str(data), str(threads),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
    line = next((x for x in out.decode().splitlines() if x.startswith("WRK ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {out.decode()} {err.decode()}")
    _, requests, duration, p50, p95, _p99, failed = line.split()
    if each_once and int(requests) > len(bodies):
        raise RuntimeError("wrk sent more requests than there are distinct bodies: seed more")
    return WrkFigures(int(requests), float(duration), float(p50), float(p95), int(failed))
