"""The ``Idempotency-Key`` header on GraphQL POSTs (docs/idempotency.md).

draft-ietf-httpapi-idempotency-key-header-07 with Stripe's semantics: the first answer
to a (token, key) is stored for 24 hours with a fingerprint of the request body; the
same key and body get that answer again (``Idempotency-Replayed: true``) without
running anything, another body gets 422, and a key whose first request is still
running gets 409. The state lives in PostgreSQL (``domain.integration.idempotency``), so
all API processes agree and a crash is decided by what committed:

- the claim rides in the ASGI scope's state; ``api.permissions.command`` marks it
  ``effect_committed`` inside each mutation's own transaction;
- a RUNNING key older than the lease (``ERPGRAPH_IDEMPOTENCY_LEASE_S``) lost its process:
  without a committed effect a retry takes it over and runs again, with one it gets 409
  (the change happened, its answer is lost; running it again would apply it twice).

Requests without the header pass through untouched: not one statement more.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any, Final

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import bearer_token
from domain.identity.services import hash_token
from domain.integration import idempotency as store
from domain.integration.idempotency import Claim, KeyState, Seen
from domain.shared.db import SessionMaker

log = logging.getLogger(__name__)

HEADER: Final = b"idempotency-key"
REPLAYED: Final = "Idempotency-Replayed"
PROBLEM_JSON: Final = "application/problem+json"
MAX_KEY_LENGTH: Final = 255
# where the claim rides in the ASGI scope's state (request.state.idempotency_claim)
CLAIM_STATE: Final = "idempotency_claim"
# claim, look, take over: a row that changes under us this often is busy (409)
ROUNDS: Final = 3
PROBLEM_TYPE: Final = "urn:erpgraph:problem:"


class MalformedKey(ValueError):
    """The header is not one sf-string (or bare token) of 1..255 printable ASCII characters."""


def parse_key(values: list[bytes]) -> str:
    """The key of the ``Idempotency-Key`` header lines ``values``.

    The draft's form is a Structured Field String (RFC 8941: ``"..."``, with ``\\"`` and
    ``\\\\`` escapes); a bare value is accepted too. Either way 1..255 printable ASCII
    characters; a quoted key may hold spaces, a bare one may not hold ``"``.
    """
    if len(values) != 1:
        raise MalformedKey("send exactly one Idempotency-Key header")
    try:
        text = values[0].decode("ascii").strip(" \t")
    except UnicodeDecodeError:
        raise MalformedKey("the Idempotency-Key must be printable ASCII") from None
    key = _sf_string(text) if text.startswith('"') else text
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise MalformedKey(f"the Idempotency-Key must have 1 to {MAX_KEY_LENGTH} characters")
    if any(not " " <= char <= "~" for char in key) or (not text.startswith('"') and '"' in key):
        raise MalformedKey("the Idempotency-Key must be printable ASCII")
    return key


def _sf_string(text: str) -> str:
    """RFC 8941 section 4.2.5: a quoted string, and nothing after it."""
    chars: list[str] = []
    index = 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 >= len(text) or text[index + 1] not in '"\\':
                raise MalformedKey('only \\" and \\\\ may be escaped in the Idempotency-Key')
            chars.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            if index != len(text) - 1:
                raise MalformedKey("nothing may follow the Idempotency-Key's closing quote")
            return "".join(chars)
        chars.append(char)
        index += 1
    raise MalformedKey("the Idempotency-Key's quoted string is not closed")


def problem(status: int, kind: str, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    """An RFC 9457 problem body, as the draft suggests for its 400, 409 and 422."""
    body = {"type": PROBLEM_TYPE + kind, "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_JSON)


def claim_of(request: Any) -> Claim | None:
    """The key a request holds, for the mutations it runs (None without the header, or on a websocket)."""
    scope = getattr(request, "scope", None)
    if not isinstance(scope, dict) or scope.get("type") != "http":
        return None
    claim = scope.get("state", {}).get(CLAIM_STATE)
    return claim if isinstance(claim, Claim) else None


def _replay(seen: Seen) -> Response:
    headers = {REPLAYED: "true"}
    if seen.content_type is not None:
        headers["content-type"] = seen.content_type
    assert seen.status_code is not None  # a DONE row has its answer (ck_idempotency_keys_done_has_answer)
    return Response(seen.body or b"", status_code=seen.status_code, headers=headers)


def _stored(status: int) -> bool:
    """Answers worth replaying: success and the client's own errors, never a server error."""
    return 200 <= status < 300 or 400 <= status < 500


async def _read_body(receive: Receive) -> bytes:
    # bounded: api.body_limit (outside this middleware) raises into this loop past its limit
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = bool(message.get("more_body", False))
    return b"".join(chunks)


class Idempotency:
    """ASGI middleware for ``Idempotency-Key`` on POSTs to ``path``; inside auth and the body limit."""

    def __init__(self, app: ASGIApp, *, path: str, lease_s: float) -> None:
        self.app = app
        self.path = path
        self.lease = timedelta(seconds=lease_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        values = [value for name, value in headers if name == HEADER]
        token = bearer_token(next((v.decode("latin-1") for n, v in headers if n == b"authorization"), None))
        if not values or token is None:  # no token: auth refused it already
            await self.app(scope, receive, send)
            return
        try:
            key = parse_key(values)
        except MalformedKey as error:
            await problem(400, "idempotency-key-malformed", "Malformed Idempotency-Key", str(error))(
                scope, receive, send)
            return
        body = await _read_body(receive)
        sessionmaker: SessionMaker = scope["app"].state.resources.sessionmaker
        outcome = await self._claim(sessionmaker, hash_token(token), key, hashlib.sha256(body).hexdigest())
        if isinstance(outcome, Response):
            await outcome(scope, receive, send)
            return
        await self._run(sessionmaker, outcome, body, scope, receive, send)

    async def _claim(self, sessionmaker: SessionMaker, owner: str, key: str, fingerprint: str) -> Claim | Response:
        for _ in range(ROUNDS):
            got = await store.claim(sessionmaker, owner, key, fingerprint)
            if got is None:  # released between our two statements: the key is free again
                continue
            if isinstance(got, Claim):
                return got
            if got.fingerprint != fingerprint:
                return problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                               "this Idempotency-Key was used with another request body; use a new key")
            if got.state is KeyState.DONE:
                return _replay(got)
            if got.age < self.lease:
                return problem(409, "idempotency-key-in-progress", "Request in progress",
                               "a request with this Idempotency-Key is still running; retry later",
                               {"Retry-After": "1"})
            if got.effect_committed:
                return problem(409, "idempotency-response-lost", "Response lost",
                               "a request with this Idempotency-Key made its change but its response was "
                               "lost; it is not run again: read the current state instead")
            taken = await store.take_over(sessionmaker, owner, key, got, self.lease)
            if taken is not None:
                log.info("idempotency key taken over after the lease: its first attempt committed nothing")
                return taken
        return problem(409, "idempotency-key-in-progress", "Request in progress",
                       "a request with this Idempotency-Key is still running; retry later", {"Retry-After": "1"})

    async def _run(self, sessionmaker: SessionMaker, claim: Claim, body: bytes,
                   scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})[CLAIM_STATE] = claim
        body_given = False
        status = 0
        content_type: str | None = None
        chunks: list[bytes] = []
        settled = False

        async def replayed_receive() -> Message:
            nonlocal body_given
            if not body_given:
                body_given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # http.disconnect

        async def captured_send(message: Message) -> None:
            nonlocal status, content_type, settled
            if message["type"] == "http.response.start":
                status = int(message["status"])
                content_type = next((value.decode("latin-1") for name, value in message.get("headers", [])
                                     if name.lower() == b"content-type"), None)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and not settled:
                    # stored before the last bytes leave: a client's next request sees the answer
                    settled = True
                    if _stored(status):
                        await store.finish(sessionmaker, claim, status, content_type, b"".join(chunks))
                    else:
                        await store.release(sessionmaker, claim)
            await send(message)

        try:
            await self.app(scope, replayed_receive, captured_send)
        except BaseException:
            if not settled:
                settled = True
                await store.release(sessionmaker, claim)
            raise
        if not settled:  # the app returned without a whole answer
            await store.release(sessionmaker, claim)
