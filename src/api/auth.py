"""Bearer-token authentication for HTTP and websocket connections."""

from __future__ import annotations

import time
from collections import OrderedDict

from domain.identity.services import Principal, authenticate
from domain.shared.db import SessionMaker

CACHE_SECONDS = 30.0
CACHE_SIZE = 1024


def bearer_token(header: object) -> str | None:
    if not isinstance(header, str):
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Authenticator:
    """Resolves tokens to principals, caching hits briefly to keep them off the hot path."""

    def __init__(self, sessionmaker: SessionMaker) -> None:
        self.sessionmaker = sessionmaker
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    async def __call__(self, token: str | None) -> Principal | None:
        if not token or len(token) > 200:
            return None
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit is not None and hit[0] > now:
            self._cache.move_to_end(token)
            return hit[1]
        async with self.sessionmaker() as session:
            principal = await authenticate(session, token)
        if principal is not None:
            self._cache[token] = (now + CACHE_SECONDS, principal)
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return principal
