"""Request bodies above a limit are refused with 413 before they are read whole."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised into the app when a streamed body passes the limit (the app reads no further)."""


def _too_large(max_bytes: int) -> JSONResponse:
    return JSONResponse(
        {"errors": [{
            "message": f"request body larger than {max_bytes} bytes (ERPGRAPH_MAX_BODY_BYTES)",
            "extensions": {"code": "BODY_TOO_LARGE", "maxBytes": max_bytes},
        }]},
        status_code=413,
        headers={"Connection": "close"},
    )


class BodySizeLimit:
    """Refuses HTTP requests whose body exceeds ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before any of the body is
    read; a chunked or lying body is counted while the app receives it and cut off at
    the limit, so no more than ``max_bytes`` of it is ever held.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
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
            await _too_large(self.max_bytes)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
