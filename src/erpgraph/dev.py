"""`erpgraph dev`: the whole service in one process, on embedded servers when no URLs are set.

Order of start: embedded PostgreSQL/Redis -> migrate -> demo data -> dev admin
token -> uvicorn and an arq worker in one event loop. Ctrl-C or SIGTERM stops
them in reverse order and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import uvicorn

from erpgraph import datadir
from erpgraph.server import (
    StartupError,
    check_database,
    check_redis,
    connection_errors,
    reason,
    shown,
    tune_gc,
)
from erpgraph.settings import Settings

TOKEN_FILE = "dev-admin-token"
TOKEN_NAME = "dev admin"
WORKER_STOP_TIMEOUT = 15.0
log = logging.getLogger("erpgraph.dev")


def run(settings: Settings, *, host: str, port: int, demo: bool = True) -> int:
    """Run until interrupted; 0 after Ctrl-C/SIGTERM, 1 if the server or worker failed.

    Owns the data directory while it runs: a second `erpgraph dev` on it refuses to start.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)-8s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # logs every pg_ctl call at INFO
    logging.getLogger("arq.worker").setLevel(logging.WARNING)  # two lines per relay cron tick
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    embedded = not (settings.database_url and settings.redis_url)
    embedded_pg = None if settings.database_url else data_dir / "pg"
    with datadir.hold(data_dir):  # released last: after the embedded servers stopped
        return _run(settings, host=host, port=port, demo=demo, embedded=embedded, embedded_pg=embedded_pg)


def _run(settings: Settings, *, host: str, port: int, demo: bool, embedded: bool, embedded_pg: Path | None) -> int:
    from erpgraph.embedded import embedded_services
    from erpgraph.migrate import upgrade

    data_dir = settings.data_dir
    sock = _bind(host, port)
    previous_int = signal.getsignal(signal.SIGINT)
    previous_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with contextlib.ExitStack() as stack:
            stack.callback(sock.close)
            _say(_starting(settings))
            with _signals_held():
                services = stack.enter_context(
                    embedded_services(data_dir, settings.database_url, settings.redis_url)
                )
            # Registered after the services, so it runs before they stop: a second
            # Ctrl-C must not interrupt PostgreSQL's shutdown half-way.
            stack.callback(_ignore_signals)
            assert services.database_url and services.redis_url
            settings = settings.model_copy(
                update={"database_url": services.database_url, "redis_url": services.redis_url}
            )
            asyncio.run(_reachable(settings, embedded_pg))
            try:
                upgrade(services.database_url)
            except connection_errors() as exc:
                raise StartupError(
                    f"cannot migrate {shown(services.database_url)}: {reason(exc)}"
                ) from None
            code = asyncio.run(_main(settings, sock, host, port, demo))
            if embedded:
                _say("erpgraph dev: stopping embedded services")
            return code
    except KeyboardInterrupt:  # during start-up, before the event loop took over signals
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


async def _reachable(settings: Settings, embedded_pg: Path | None) -> None:
    assert settings.database_url and settings.redis_url
    try:
        await check_database(settings.database_url, migrated=False)
    except StartupError as exc:
        if embedded_pg is None:
            raise
        raise StartupError(f"{exc}; to start afresh, remove {embedded_pg}") from None
    await check_redis(settings.redis_url)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C/SIGTERM until the embedded servers are up, then act on them.

    Interrupting Python mid-initdb kills initdb and leaves a data dir that can
    never start again; stopping right after start-up is harmless.
    """
    received: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: received.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _ignore_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _starting(settings: Settings) -> str:
    parts = [
        f"PostgreSQL at {shown(settings.database_url)}" if settings.database_url
        else f"embedded PostgreSQL in {settings.data_dir / 'pg'}",
        f"Redis at {shown(settings.redis_url)}" if settings.redis_url
        else f"embedded Redis in {settings.data_dir / 'redis'}",
    ]
    return "erpgraph dev: starting " + " and ".join(parts)


def _bind(host: str, port: int) -> socket.socket:
    """Bind before anything slow starts, so a taken port fails fast with one line."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code=2) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code=2) from None
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `_main` owns SIGINT/SIGTERM for server and worker."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _main(settings: Settings, sock: socket.socket, host: str, port: int, demo: bool) -> int:
    from api.app import create_app
    from workers.settings import run_worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    loaded, token = await _prepare(settings, demo)
    if stop.is_set():
        return 0
    server = _Server(uvicorn.Config(create_app(settings), host=host, port=port, log_level="info"))
    tune_gc()
    serving = asyncio.create_task(_serve(server, sock), name="uvicorn")
    working = asyncio.create_task(run_worker(settings, stop=stop), name="arq worker")
    stopping = asyncio.create_task(stop.wait(), name="stop")
    while not (server.started or serving.done() or working.done() or stop.is_set()):
        await asyncio.sleep(0.05)
    if server.started:
        _say(_banner(settings, host, port, token, loaded))

    await asyncio.wait({serving, working, stopping}, return_when=asyncio.FIRST_COMPLETED)
    failed = not stop.is_set()
    stop.set()
    server.should_exit = True
    # asyncio.wait, not await: a failed task is reported below, not raised here.
    await asyncio.wait({serving})
    await asyncio.wait({working}, timeout=WORKER_STOP_TIMEOUT)
    if not working.done():
        working.cancel()
        await asyncio.wait({working})
    for task, what in ((serving, "server"), (working, "worker")):
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", what, exc_info=task.exception())
            failed = True
    return 1 if failed else 0


async def _serve(server: uvicorn.Server, sock: socket.socket) -> bool:
    """Serve until told to stop; False if start-up failed (uvicorn then calls sys.exit)."""
    try:
        await server.serve(sockets=[sock])
    except SystemExit:
        return False
    return server.started


async def _prepare(settings: Settings, demo: bool) -> tuple[bool | None, str]:
    from domain.shared.db import make_engine, make_sessionmaker
    from domain.shared.errors import DomainError
    from erpgraph.demo import load_demo

    assert settings.database_url
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        sessionmaker = make_sessionmaker(engine)
        loaded = await load_demo(sessionmaker) if demo else None
        token = await ensure_dev_token(sessionmaker, settings.data_dir / TOKEN_FILE)
    except DomainError as exc:  # e.g. a database of your own that already uses a demo SKU
        raise StartupError(f"cannot load the demo data ({exc}); use --no-demo") from None
    except connection_errors() as exc:
        raise StartupError(f"cannot prepare the database: {reason(exc)}") from None
    finally:
        await engine.dispose()
    return loaded, token


TOKEN_SHAPE = re.compile(r"^eg_[A-Za-z0-9_-]{20,150}$")


async def ensure_dev_token(sessionmaker: Any, path: Path) -> str:
    """The admin token kept in ``path`` (mode 600); (re)creates the file or its row as needed."""
    from sqlalchemy import select

    from domain.identity.models import ApiToken
    from domain.identity.services import create_token, hash_token
    from domain.shared.events import record_event

    token = path.read_text().strip() if path.exists() else ""
    async with sessionmaker.begin() as session:
        if TOKEN_SHAPE.match(token):
            row = (
                await session.execute(
                    select(ApiToken.revoked_at).where(ApiToken.token_hash == hash_token(token))
                )
            ).first()
            if row is None:  # a fresh database under an old data dir: register the kept token
                api_token = ApiToken(name=TOKEN_NAME, role="admin", token_hash=hash_token(token))
                session.add(api_token)
                await session.flush()
                await record_event(
                    session, "token.created", "ApiToken", api_token.id,
                    {"name": TOKEN_NAME, "role": "admin"},
                )
                return token
            if row.revoked_at is None:
                return token
        token = await create_token(session, TOKEN_NAME, "admin")
        _write_secret(path, token)  # before commit: a failed write leaves no orphan row
    return token


def _write_secret(path: Path, value: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(value + "\n")
    os.replace(tmp, path)


def _banner(settings: Settings, host: str, port: int, token: str, loaded: bool | None) -> str:
    shown_host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    base = f"http://{shown_host}:{port}/graphql"
    demo = {True: "loaded", False: "already present", None: "not loaded (--no-demo)"}[loaded]
    token_file = settings.data_dir / TOKEN_FILE
    return "\n".join(
        [
            "",
            "  erpgraph dev is running",
            f"  GraphiQL     {base}?token={quote(token, safe='')}",
            f"  GraphQL      {base}  (Authorization: Bearer <token>)",
            f"  Admin token  {token}  (kept in {token_file})",
            f"  Demo data    {demo}",
            "  Press Ctrl-C to stop.",
            "",
        ]
    )
