"""GraphQL over HTTP: media types, request errors and bodies the JSON parser must not see.

Follows https://graphql.github.io/graphql-over-http/draft/ as graphql-http's ``auditServer``
checks it (tests/security/test_http_spec.py): a client accepting
``application/graphql-response+json`` gets that media type, and a request error (the
document does not parse or validate, the variables do not coerce, a limit refuses it:
nothing executed) comes with status 400 and no ``data`` entry. A client accepting
``application/json`` (or ``*/*``, or sending no Accept) gets ``application/json`` and
status 200 for every well-formed request, as before. A body that is not JSON, not UTF-8,
not an object, or nested too deeply is refused with 400 and a JSON error body.
"""

from __future__ import annotations

import json
from typing import Any, Final

from cross_web import HTTPException
from starlette.responses import Response
from strawberry.types import ExecutionResult

JSON: Final = "application/json"
GRAPHQL_RESPONSE: Final = "application/graphql-response+json"
# Far deeper than any input the schema takes; graphql-core coerces variables recursively.
MAX_JSON_DEPTH: Final = 64


def negotiate(accept: str | None) -> str:
    """The response media type for an Accept header: graphql-response+json only when asked for.

    Ranked by q-value, then by order; ``*/*``, ``application/*`` and anything else
    (or no Accept at all) mean ``application/json``.
    """
    if not accept:
        return JSON
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, index, media.lower()))
    for negative_quality, _, media in sorted(ranked):
        if negative_quality >= 0:
            break
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return JSON


def is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution: no data, and no error tied to a field's path."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


def request_error(message: str, status_code: int, media_type: str) -> Response:
    """A refusal before GraphQL ran (bad body, method, content type), as a GraphQL response."""
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]})
    headers = {"Allow": "GET, POST"} if status_code == 405 else None
    return Response(body, status_code=status_code, headers=headers, media_type=f"{media_type}; charset=utf-8")


def decode_body(data: str | bytes) -> object:
    """JSON that is an object (or a list, which strawberry refuses as a batch), else HTTP 400."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")  # a byte order mark is allowed (RFC 8259), and dropped
        except UnicodeDecodeError:
            raise HTTPException(400, "the request body is not valid UTF-8") from None
    try:
        value = json.loads(data)
    except json.JSONDecodeError:
        raise HTTPException(400, "Unable to parse request body as JSON") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise HTTPException(400, f"Unable to parse request body as JSON: {str(exc)[:100]}") from None
    except RecursionError:
        raise HTTPException(400, f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
    if not isinstance(value, (dict, list)):
        raise HTTPException(400, "the request body (or variables, extensions) must be a JSON object")
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise HTTPException(400, f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(current, dict):
            stack.extend((item, depth + 1) for item in current.values() if isinstance(item, (dict, list)))
        elif isinstance(current, list):
            stack.extend((item, depth + 1) for item in current if isinstance(item, (dict, list)))
    return False
