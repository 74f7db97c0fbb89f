"""Bearer-token authentication for HTTP and websocket connections.

A revoked token must be refused on its very next request, in every API process. The
cache of resolved tokens is therefore trusted only while this process hears every
revocation (``live``: the listener in ``api.revocation`` holds its LISTEN): a revocation
drops the token's entry and closes its websockets the moment it commits. While the
listener is down every request asks the database, and a websocket opened meanwhile is
re-checked once it is back.
"""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from collections import OrderedDict
from typing import Any

from sqlalchemy import select

from domain.identity.models import ApiToken
from domain.identity.services import Principal, authenticate, hash_token
from domain.shared.db import SessionMaker

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30.0
CACHE_SIZE = 1024
MAX_TOKEN_LENGTH = 200
# graphql-transport-ws has no code for it; 4403 mirrors HTTP 403 as 4400 mirrors 400.
REVOKED_CLOSE_CODE = 4403


def bearer_token(header: object) -> str | None:
    if not isinstance(header, str):
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Authenticator:
    """Resolves tokens to principals, caching hits while revocations are heard."""

    def __init__(self, sessionmaker: SessionMaker) -> None:
        self.sessionmaker = sessionmaker
        # by the token's hash, the key revocations name it by
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._sockets: dict[str, weakref.WeakSet[Any]] = {}
        self._live = False
        # raised by every revocation: a database read that overlapped one is not cached
        self._generation = 0

    @property
    def live(self) -> bool:
        return self._live

    def set_live(self, live: bool) -> None:
        """Whether every revocation reaches :meth:`revoked` from now on; either way the cache starts empty."""
        self._live = live
        self._generation += 1
        self._cache.clear()

    async def __call__(self, token: str | None) -> Principal | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        key = hash_token(token)
        now = time.monotonic()
        if self._live:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(key)
                return hit[1]
        generation = self._generation
        async with self.sessionmaker() as session:
            principal = await authenticate(session, token)
        if principal is not None and self._live and generation == self._generation:
            self._cache[key] = (now + CACHE_SECONDS, principal)
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return principal

    async def for_websocket(self, token: str | None, websocket: Any) -> Principal | None:
        """Authenticate a websocket and close it with 4403 once ``token`` is revoked."""
        generation = self._generation
        principal = await self(token)
        if principal is None or token is None:
            return None
        self._track(token, websocket)
        if generation != self._generation:  # a revocation came while we looked: look again
            principal = await self(token)
        return principal

    def _track(self, token: str, websocket: Any) -> None:
        # held weakly: a closed socket just goes; emptied sets are pruned as they pile up
        if len(self._sockets) > CACHE_SIZE:
            self._sockets = {key: sockets for key, sockets in self._sockets.items() if sockets}
        self._sockets.setdefault(hash_token(token), weakref.WeakSet()).add(websocket)

    async def revoked(self, token_hash: str) -> None:
        """``token_hash``'s token was revoked: forget it and close its websockets with 4403."""
        self._generation += 1
        self._cache.pop(token_hash, None)
        sockets = self._sockets.pop(token_hash, None)
        for websocket in list(sockets or ()):
            with contextlib.suppress(Exception):  # already closing or gone
                await websocket.close(code=REVOKED_CLOSE_CODE, reason="token revoked")
        if sockets:
            logger.info("closed %d websocket(s) of a revoked token", len(sockets))

    async def recheck_sockets(self) -> None:
        """Close websockets whose token was revoked while revocations were not heard."""
        self._sockets = {key: sockets for key, sockets in self._sockets.items() if sockets}
        if not self._sockets:
            return
        async with self.sessionmaker() as session:
            live = set((await session.scalars(
                select(ApiToken.token_hash).where(
                    ApiToken.token_hash.in_(list(self._sockets)), ApiToken.revoked_at.is_(None)
                )
            )).all())
        for key in [key for key in self._sockets if key not in live]:
            await self.revoked(key)
