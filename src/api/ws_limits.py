"""graphql-transport-ws with limits: a cap on connections waiting for ``connection_init``,
4400 for malformed messages, and an ``error`` message for operations refused before they run."""

from __future__ import annotations

from typing import Any, cast

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import CompleteMessage, Message
from strawberry.utils.aio import aclosing

from api.context import Context

# Close codes: 4400 a message the protocol does not allow; 1013 "try again later" when the
# process already has as many connections waiting for connection_init as it accepts.
MALFORMED = 4400
TRY_AGAIN_LATER = 1013


class PendingInits:
    """Connections of this process that are open but have not sent ``connection_init``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0


class LimitedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    _pending: PendingInits | None = None

    async def handle(self) -> None:
        pending: PendingInits = cast(Any, self.view).pending_inits
        if pending.count >= pending.limit:
            await self.websocket.close(code=TRY_AGAIN_LATER, reason="Too many connections awaiting init")
            return
        pending.count += 1
        self._pending = pending
        try:
            await super().handle()
        finally:
            self._initialised()

    def _initialised(self) -> None:
        if self._pending is not None:
            self._pending.count -= 1
            self._pending = None

    async def handle_message(self, message: Message) -> None:
        problem = _malformed(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message["type"] == "connection_init":
            self._initialised()
        await super().handle_message(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # As strawberry's, except that a refusal raised before execution (the token limit
        # while parsing) is sent as the operation's ``error``, not logged and "completed".
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message(CompleteMessage(id=operation.id, type="complete"))
        except _OperationStreamClosed:
            return
        except GraphQLError as error:
            await operation.send_initial_errors([error])
        except Exception as error:
            await self.handle_task_exception(error)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
            raise


def _malformed(message: object) -> str | None:
    """Why ``message`` breaks the protocol's shapes (None: it is well formed)."""
    if not isinstance(message, dict):
        return "WebSocket message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "Message type must be a string"
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return "Message id must be a string"
    payload = message.get("payload")
    if kind in ("connection_init", "ping", "pong") and payload is not None and not isinstance(payload, dict):
        return "Message payload must be an object"
    if kind == "subscribe":
        if not isinstance(payload, dict):
            return "Subscribe payload must be an object"
        if not isinstance(payload.get("query"), str):
            return "Subscribe payload must hold a query string"
        if payload.get("variables") is not None and not isinstance(payload["variables"], dict):
            return "Subscribe variables must be an object"
        if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
            return "Subscribe operationName must be a string"
    return None
