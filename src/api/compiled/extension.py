"""Serving compiled reads: the schema extension that answers a compilable query with one statement.

Runs last of the ``on_execute`` hooks, after the limits, the one-operation rule and the
text guard have had their say (each presets a result to refuse). For an HTTP query whose
every field compiles (``api.compiled.planner``) it runs the plan and presets the result
with the statement's JSON text as :class:`RawJSON`; strawberry then skips execution and
``GraphQLApp.encode_json`` splices the text into the response as it is. Anything else,
and any failure of the statement, leaves the request to the resolver path. The response
header ``x-erpgraph-read-path`` says which path answered a query.

:class:`ReadPath` is one app's compiled reads (their asyncpg pool and plans);
:func:`answer_known` is the fast path that ``GraphQLApp.execute_single`` tries first.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

import asyncpg
from graphql import ExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult as StrawberryResult
from strawberry.types.graphql import OperationType

from api.compiled.planner import Plan, plan
from domain.identity.services import Principal
from domain.shared.db import asyncpg_dsn
from erpgraph.settings import Settings

logger = logging.getLogger(__name__)

READ_PATH_HEADER = "x-erpgraph-read-path"
_PLANS_KEPT = 1000


class RawJSON(str):
    """JSON text written by PostgreSQL, to be put into the response unchanged."""


class _Unplanned:
    """A request that does not compile: known for exactly these variables."""

    def __init__(self, variables: Any) -> None:
        self.variables = json.dumps(variables, sort_keys=True)

    def fits(self, variables: Any, max_length: int) -> bool:
        return json.dumps(variables, sort_keys=True) == self.variables


_VARIANTS_KEPT = 16  # per document: one per shape of its variables (a null cursor, a valid one...)


class _Plans:
    """The plans of each (document, operation, viewer, list maxima), one per shape of the
    variables; the least recently used go."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self._plans: OrderedDict[tuple[Any, ...], list[Plan | _Unplanned]] = OrderedDict()

    def get(self, key: tuple[Any, ...], variables: Any) -> tuple[bool, Plan | None]:
        variants = self._plans.get(key)
        if variants is None:
            return False, None
        self._plans.move_to_end(key)
        for variant in variants:
            if variant.fits(variables, self.max_length):
                return True, variant if isinstance(variant, Plan) else None
        return False, None

    def put(self, key: tuple[Any, ...], variables: Any, value: Plan | None) -> None:
        variants = self._plans.setdefault(key, [])
        variants.insert(0, _Unplanned(variables) if value is None else value)
        del variants[_VARIANTS_KEPT:]
        self._plans.move_to_end(key)
        if len(self._plans) > _PLANS_KEPT:
            self._plans.popitem(last=False)


class ReadPath:
    """One app's compiled reads: its connections and its plans."""

    def __init__(self, pool: asyncpg.Pool, list_maxima: Any = None, max_length: int = 0) -> None:
        self.pool = pool
        self.plans = _Plans(max_length)
        self.max_length = max_length  # the longest string argument the limits let through
        self._maxima = list_maxima  # api.list_maxima.ListMaxima: what the cost limit read

    @classmethod
    async def open(cls, settings: Settings, list_maxima: Any = None, init: Any = None) -> ReadPath:
        """Plain asyncpg connections, so a read is one round trip (no BEGIN and ROLLBACK around
        it), its statement prepared once per connection by asyncpg's statement cache. Their
        sessions are read-only and bounded by the engine's statement timeout."""
        assert settings.database_url is not None
        server_settings = {"default_transaction_read_only": "on",
                           "statement_timeout": str(settings.statement_timeout_ms)}
        pool = await asyncpg.create_pool(
            asyncpg_dsn(settings.database_url), min_size=0, max_size=settings.read_pool_size,
            server_settings=server_settings, init=init, reset=_reset,
        )
        assert pool is not None
        return cls(pool, list_maxima, settings.max_search_length)

    async def close(self) -> None:
        await self.pool.close()

    def key(self, query: str | None, operation_name: str | None, viewer: Principal) -> tuple[Any, ...]:
        """The plans' key: the document, the operation, who asks (scopes and fence) and the version
        of the list maxima (the cost limit may answer differently once they change); the variables
        pick one of its plans by their shape (``Plan.fits``)."""
        return query, operation_name, viewer.scopes, viewer.partner, getattr(self._maxima, "version", 0)

    async def run(self, compiled: Plan, variables: Any) -> str:
        """The JSON text of a plan's ``data`` for ``variables``."""
        async with self.pool.acquire() as connection:
            written: str = await connection.fetchval(compiled.sql, *compiled.arguments(variables))
        return written


async def _reset(connection: asyncpg.Connection) -> None:
    """A read leaves nothing behind (no transaction, setting, listener or lock), so a connection
    goes back to the pool without asyncpg's reset statement, a round trip per read."""
    if connection.is_in_transaction():  # only if a read was cut off mid-statement
        await connection.execute("ROLLBACK")


async def answer_known(context: Any, query: str | None, operation_name: str | None,
                       variables: Any) -> StrawberryResult | None:
    """The answer to a request that is the same as one already served compiled (same key): its
    document passed validation, the limits and the text guard then, and would again, so the plan
    runs at once, before strawberry parses anything. None: the request goes the whole way."""
    reads: ReadPath | None = context.reads
    if reads is None or context.principal is None or not isinstance(query, str) \
            or not isinstance(operation_name, str | None) or not isinstance(variables, dict | None):
        return None  # strawberry refuses what is not a string, a name or a map
    _, compiled = reads.plans.get(reads.key(query, operation_name, context.principal), variables)
    if compiled is None or not compiled.proven:
        return None
    try:
        written = await reads.run(compiled, variables)
    except Exception:  # the whole way then, which reports what it meets
        logger.exception("compiled read failed; answered the whole way")
        return None
    context.response.headers[READ_PATH_HEADER] = "compiled"
    return StrawberryResult(data=RawJSON(written), errors=None)  # type: ignore[arg-type]  # spliced by encode()


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
        if execution.result is not None or context.reads is None or context.principal is None:
            response.headers[READ_PATH_HEADER] = "resolvers"
            return
        reads: ReadPath = context.reads
        key, variables = reads.key(execution.query, execution.operation_name, context.principal), execution.variables
        known, compiled = reads.plans.get(key, variables)
        if not known:
            assert execution.graphql_document is not None
            try:
                compiled = plan(self.execution_context.schema._schema, execution.graphql_document,
                                execution.operation_name, variables, context.principal, context.fence,
                                reads.max_length)
            except Exception:  # a planner bug must cost speed, not the answer
                logger.exception("planning a compiled read failed; answered by the resolver path")
                compiled = None
            reads.plans.put(key, variables, compiled)
        if compiled is None:
            response.headers[READ_PATH_HEADER] = "resolvers"
            return
        try:
            written = await reads.run(compiled, variables)
        except Exception:  # the resolver path answers instead, and reports what it meets
            logger.exception("compiled read failed; answered by the resolver path")
            response.headers[READ_PATH_HEADER] = "resolvers"
            return
        compiled.proven = True  # every check before this hook passed: a request of the same shape may skip them
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
