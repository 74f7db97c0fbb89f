"""Text search: ILIKE patterns, and the per-process cap on searches running at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any


def contains(text: str) -> str:
    """An ILIKE pattern matching ``text`` literally anywhere (wildcards escaped)."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_slots(limit: int) -> asyncio.Semaphore:
    """The process's search slots (``ERPGRAPH_MAX_CONCURRENT_SEARCHES``), kept on ``app.state``."""
    return asyncio.Semaphore(limit)


@contextlib.asynccontextmanager
async def search_slot(context: Any) -> AsyncIterator[None]:
    """Hold one of the process's search slots while a search's statement runs.

    A search scans: many at once would take every pooled connection and both CPUs, and
    a small query would wait behind them. Searches beyond the cap wait here, holding no
    connection, so other requests always find one.
    """
    request = getattr(context, "request", None)
    app = getattr(request, "app", None) if request is not None else None
    slots: asyncio.Semaphore | None = getattr(getattr(app, "state", None), "search_slots", None)
    if slots is None:
        yield
        return
    async with slots:
        yield
