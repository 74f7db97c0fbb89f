"""Run a relay pass promptly after ``NOTIFY domain_events``.

Only a latency optimisation: the cron pass alone guarantees delivery, so a lost
notification, a dropped connection or a failed pass here costs at most a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

logger = logging.getLogger(__name__)

CHANNEL = "domain_events"

# How long to wait before retrying when another relay holds the lock: its last read
# may have come before the notified commit.
BUSY_RETRY_S = 0.1
RECONNECT_S = 1.0
# Wake up this often even without a notification to notice a dead connection.
IDLE_CHECK_S = 30.0


async def listen_and_relay(
    dsn: str,
    relay_pass: Callable[[], Awaitable[int | None]],
    *,
    channel: str = CHANNEL,
    ready: asyncio.Event | None = None,
) -> None:
    """LISTEN on ``channel`` and call ``relay_pass`` after each notification, until cancelled.

    ``relay_pass`` returns None when another relay was busy; it is then retried
    shortly. ``ready`` is set once the LISTEN is in place.
    """
    wake = asyncio.Event()

    def on_notify(*_: Any) -> None:
        wake.set()

    while True:
        try:
            conn = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            logger.warning("relay listener cannot connect, retrying: %s", exc)
            await asyncio.sleep(RECONNECT_S)
            continue
        try:
            conn.add_termination_listener(on_notify)
            await conn.add_listener(channel, on_notify)
            if ready is not None:
                ready.set()
            # Events committed while nobody listened would otherwise wait for the cron.
            wake.set()
            while not conn.is_closed():
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                # that arrives as the wait ends, and the listener would then never stop
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_CHECK_S):
                        await wake.wait()
                if not wake.is_set():
                    continue
                wake.clear()
                if await _run_pass(relay_pass) is None:
                    await asyncio.sleep(BUSY_RETRY_S)
                    wake.set()
            logger.warning("relay listener connection closed, reconnecting")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            logger.warning("relay listener connection lost, reconnecting: %s", exc)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)
        await asyncio.sleep(RECONNECT_S)


async def _run_pass(relay_pass: Callable[[], Awaitable[int | None]]) -> int | None:
    try:
        return await relay_pass()
    except Exception:
        # The listener must outlive a failed pass (Redis or PostgreSQL briefly down);
        # the cron retries the same events.
        logger.exception("relay pass after notification failed")
        return 0
