"""Every API process hears a token revocation the moment it commits.

Two paths, each enough on its own:

* PostgreSQL ``LISTEN`` on ``REVOKED_CHANNEL``: the revoking transaction sends
  ``pg_notify`` with the token's hash, delivered on commit to every listening process.
  It needs no worker, so ``erpgraph serve`` alone refuses a revoked token at once. While
  this connection is up the :class:`~api.auth.Authenticator` may cache tokens; when it
  drops the cache is switched off until the LISTEN is back, and open websockets are
  re-checked against the table.
* The event channel: the ``token.revoked`` domain event, relayed through Redis to the
  process's :class:`~api.events.EventHub` like every other event (a second messenger;
  it arrives later, after the relay's pass, and changes nothing when the first came).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from api.auth import Authenticator
from api.events import Event, EventHub
from domain.identity.services import REVOKED_CHANNEL, TOKEN_REVOKED

logger = logging.getLogger(__name__)

RECONNECT_S = 1.0
# A silent LISTEN connection is probed this often, so a dead one stops the cache soon.
PROBE_S = 5.0


class RevocationListener:
    """Feeds revocations to an :class:`Authenticator` from PostgreSQL and from the event hub."""

    def __init__(self, dsn: str, authenticator: Authenticator, hub: EventHub | None) -> None:
        self.dsn = dsn
        self.authenticator = authenticator
        self.hub = hub
        self.ready = asyncio.Event()  # set while the LISTEN is in place
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()  # held until done (the loop keeps weak refs)

    def start(self) -> None:
        if not self._tasks:
            self._tasks.append(asyncio.create_task(self._listen(), name="revocations:postgres"))
            if self.hub is not None:
                self.hub.on(TOKEN_REVOKED, self._on_event)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        self.authenticator.set_live(False)

    def _revoke(self, token_hash: str) -> None:
        task = asyncio.get_running_loop().create_task(self.authenticator.revoked(token_hash))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self._revoke(payload)

    async def _listen(self) -> None:
        while True:
            conn: Any = None
            try:
                conn = await asyncpg.connect(self.dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda *_, lost=lost: lost.set())
                await conn.add_listener(REVOKED_CHANNEL, self._on_notify)
                self.authenticator.set_live(True)
                self.ready.set()
                await self.authenticator.recheck_sockets()
                while not lost.is_set() and not conn.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), PROBE_S)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), PROBE_S)
                logger.warning("revocation listener connection closed, reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("revocation listener down, every request checks its token: %s", exc)
            finally:
                self.ready.clear()
                self.authenticator.set_live(False)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 5)
            await asyncio.sleep(RECONNECT_S)

    def _on_event(self, event: Event) -> None:
        token_hash = event.payload.get("tokenHash")
        if isinstance(token_hash, str):
            self._revoke(token_hash)
