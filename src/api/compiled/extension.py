"""Serving compiled reads: the schema extension that answers a compilable query with one statement.

Runs last of the ``on_execute`` hooks, after the limits, the one-operation rule and the
text guard have had their say (each presets a result to refuse). For an HTTP query whose
every field compiles (``api.compiled.planner``) it runs the plan and presets the result
with the statement's JSON text as :class:`RawJSON`; strawberry then skips execution and
``GraphQLApp.encode_json`` splices the text into the response as it is. Anything else,
and any failure of the statement, leaves the request to the resolver path. The response
header ``x-erpgraph-read-path`` says which path answered a query.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

from graphql import ExecutionResult
from sqlalchemy import text
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.compiled.planner import Plan, plan

logger = logging.getLogger(__name__)

READ_PATH_HEADER = "x-erpgraph-read-path"
_PLANS_KEPT = 1000


class RawJSON(str):
    """JSON text written by PostgreSQL, to be put into the response unchanged."""


class _Plans:
    """Plans by (document, operation, variables, viewer's scopes and fence); least recently used go."""

    def __init__(self) -> None:
        self._plans: OrderedDict[tuple[Any, ...], Plan | None] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> tuple[bool, Plan | None]:
        if key not in self._plans:
            return False, None
        self._plans.move_to_end(key)
        return True, self._plans[key]

    def put(self, key: tuple[Any, ...], value: Plan | None) -> None:
        self._plans[key] = value
        if len(self._plans) > _PLANS_KEPT:
            self._plans.popitem(last=False)


PLANS = _Plans()


class CompiledReads(SchemaExtension):
    async def on_execute(self) -> Any:  # an async generator: strawberry runs it around execution
        await self._answer()
        yield

    async def _answer(self) -> None:
        execution = self.execution_context
        context = execution.context
        request = getattr(context, "request", None)
        if getattr(request, "scope", {}).get("type") != "http" or execution.operation_type is not OperationType.QUERY:
            return  # websockets, mutations: the resolver path, without a header
        response = context.response
        if execution.result is not None or not context.settings.compiled_reads or context.principal is None:
            response.headers[READ_PATH_HEADER] = "resolvers"
            return
        viewer = context.principal
        key = (execution.query, execution.operation_name, json.dumps(execution.variables, sort_keys=True),
               viewer.scopes, viewer.partner)
        known, compiled = PLANS.get(key)
        if not known:
            assert execution.graphql_document is not None
            compiled = plan(self.execution_context.schema._schema, execution.graphql_document,
                            execution.operation_name, execution.variables, viewer, context.fence)
            PLANS.put(key, compiled)
        if compiled is None:
            response.headers[READ_PATH_HEADER] = "resolvers"
            return
        try:
            async with context.sessionmaker() as session:
                written = (await session.execute(text(compiled.sql), compiled.params)).scalar_one()
        except Exception:  # the resolver path answers instead, and reports what it meets
            logger.exception("compiled read failed; answered by the resolver path")
            response.headers[READ_PATH_HEADER] = "resolvers"
            return
        execution.result = ExecutionResult(data=RawJSON(written))  # type: ignore[arg-type]  # spliced by encode()
        response.headers[READ_PATH_HEADER] = "compiled"


def encode(data: object) -> str:
    """Compact UTF-8 JSON of a response, a RawJSON ``data`` spliced in unchanged.

    The resolver path writes the same way (``ensure_ascii=False``, no spaces), so the two
    paths answer with the same bytes.
    """
    if isinstance(data, dict) and isinstance(data.get("data"), RawJSON):
        raw = data["data"]
        rest = {key: value for key, value in data.items() if key != "data"}
        tail = json.dumps(rest, separators=(",", ":"), ensure_ascii=False)[1:]
        return '{"data":' + str(raw) + ("," + tail if rest else "}")
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
