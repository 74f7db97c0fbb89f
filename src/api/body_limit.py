"""Request bodies above a limit are refused with 413 before they are read whole."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Before answering 413 the rest of the body is read and dropped (never held), up to this many
# times the limit: a client that is still sending then reads the answer instead of a reset
# connection. A longer body is cut off (the server closes the connection).
DRAIN_FACTOR = 16


class BodyTooLarge(Exception):
    """Raised into the app when a streamed body passes the limit (the app reads no further)."""


def _too_large(max_bytes: int) -> JSONResponse:
    return JSONResponse(
        {"errors": [{
            "message": f"request body larger than {max_bytes} bytes (ERPGRAPH_MAX_BODY_BYTES)",
            "extensions": {"code": "BODY_TOO_LARGE", "maxBytes": max_bytes},
        }]},
        status_code=413,
    )


async def _drain(receive: Receive, more: bool, budget: int) -> None:
    """Read and drop the rest of a request body, up to ``budget`` bytes."""
    while more and budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        more = bool(message.get("more_body", False))


class BodySizeLimit:
    """Refuses HTTP requests whose body exceeds ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before any of the body
    reaches the app; a chunked or lying body is counted while the app receives it and
    cut off at the limit, so no more than ``max_bytes`` of it is ever held. Either way
    the rest is dropped as it arrives (see DRAIN_FACTOR) and the answer is 413.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        budget = DRAIN_FACTOR * self.max_bytes
        if length is not None and length > self.max_bytes:
            await _drain(receive, True, budget)
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        received = 0
        started = False
        more = True

        async def counted_receive() -> Message:
            nonlocal received, more
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                more = bool(message.get("more_body", False))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await _drain(receive, more, budget - received)
            await _too_large(self.max_bytes)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
