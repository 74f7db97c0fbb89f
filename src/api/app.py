"""The ASGI application: /graphql over HTTP and graphql-transport-ws, behind bearer tokens."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError, get_operation_ast, parse
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.auth import Authenticator, bearer_token
from api.body_limit import BodySizeLimit
from api.compiled.extension import ReadPath, answer_known, encode
from api.context import Context
from api.dataloaders import RowOf, one_by
from api.events import EventHub
from api.graphiql import STATIC_PATH, render_graphiql, static_app
from api.http import GRAPHQL_RESPONSE, JSON, decode_body, is_request_error, negotiate, request_error
from api.idempotency import Idempotency
from api.list_maxima import ListMaxima
from api.revocation import RevocationListener
from api.schema import build_schema
from api.search import search_slots
from api.ws_limits import LimitedTransportWSHandler, PendingInits
from domain.sales.models import SalesOrder as SalesOrderRow
from domain.shared.db import SessionMaker, asyncpg_dsn, make_engine, make_sessionmaker
from domain.shared.errors import ErrorCode
from domain.shared.limits import set_max_lines
from erpgraph.settings import Settings

GRAPHQL_PATH = "/graphql"
SUBSCRIPTIONS_NEED_A_WEBSOCKET = (
    f"subscriptions need a websocket: graphql-transport-ws on {GRAPHQL_PATH} (not HTTP)"
)


@dataclass
class Resources:
    engine: AsyncEngine
    sessionmaker: SessionMaker
    authenticator: Authenticator
    redis: Redis
    events: EventHub
    # Events of one relay burst reach many subscribers at once; this process-wide
    # loader batches their order loads into one query. No cache: nothing goes stale.
    event_orders: DataLoader[int, RowOf[SalesOrderRow] | None]
    # compiled reads (api.compiled): their connections and plans; None while switched off
    reads: ReadPath | None = None


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = LimitedTransportWSHandler

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_s), **kwargs)
        self.settings = settings
        self.pending_inits = PendingInits(settings.ws_max_pending_inits)

    async def get_context(self, request: Any, response: Any) -> Context:
        resources: Resources = request.app.state.resources
        return Context(
            sessionmaker=resources.sessionmaker,
            settings=self.settings,
            principal=request.scope.get("state", {}).get("principal"),
            request=request,
            response=response,
            reads=resources.reads,
        )

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        token = bearer_token(header) if header else params.get("token")
        resources: Resources = context.request.app.state.resources
        # closed with 4403 once the token is revoked
        principal = await resources.authenticator.for_websocket(
            token if isinstance(token, str) else None, context.request
        )
        if principal is None:
            raise ConnectionRejectionError()
        context.principal = principal

    async def execute_single(
        self, request: Any, request_adapter: Any, sub_response: Any, context: Context,
        root_value: None, request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # Only GET needs to know about mutations: POSTed ones are parsed once, by execution.
        sniffed = ("subscription", "mutation") if request_adapter.method == "GET" else ("subscription",)
        operation = _operation_type(request_data.query, request_data.operation_name, sniffed,
                                    self.settings.max_tokens)
        if operation is OperationType.MUTATION:
            raise HTTPException(405, "mutations need a POST request")  # GraphQL over HTTP: 405
        # Executed over HTTP, a subscription's field would resolve to null: say what to use instead.
        if operation is OperationType.SUBSCRIPTION:
            return ExecutionResult(data=None, errors=[GraphQLError(
                SUBSCRIPTIONS_NEED_A_WEBSOCKET, extensions={"code": ErrorCode.INVALID.value, "field": []},
            )])
        known = await answer_known(context, request_data.query, request_data.operation_name, request_data.variables)
        if known is not None:
            return known
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(render_graphiql(GRAPHQL_PATH))

    # GraphQL over HTTP (see api/http.py): a JSON body for every refusal, the media type the
    # client accepts, and 400 without `data` for a request error under graphql-response+json.

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = negotiate(request.headers.get("accept"))
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = request_error(exc.reason, exc.status_code, media_type)
        await response(scope, receive, send)

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept"))
        request.state.sub_response = sub_response
        return sub_response

    def encode_json(self, data: object) -> str:
        # compact UTF-8 on both read paths; a compiled read's JSON text goes in unchanged
        return encode(data)

    def parse_json(self, data: str | bytes) -> object:
        # HTTP bodies and query parameters only: websocket messages go through decode_json,
        # whose malformed shapes the transport handler closes with 4400 (api.ws_limits)
        return decode_body(data)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        sub_response: Response | None = getattr(request.state, "sub_response", None)
        if sub_response is not None and sub_response.media_type == GRAPHQL_RESPONSE and is_request_error(result):
            response.pop("data", None)
            sub_response.status_code = 400
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = f"{sub_response.media_type or JSON}; charset=utf-8"
        return response


def _operation_type(
    query: str | None, operation_name: str | None, sniffed: tuple[str, ...], max_tokens: int,
) -> OperationType | None:
    """The operation type the request would run, when its keyword (one of ``sniffed``) is in
    the text; None for anything else and for documents execution will refuse."""
    if not query or not any(word in query for word in sniffed):
        return None
    try:
        operation = get_operation_ast(parse(query, max_tokens=max_tokens), operation_name)
    except GraphQLError:  # not parsable, or over the token limit: execution reports it
        return None
    # None when there is no such operation, or several and no name: execution reports it
    return OperationType(operation.operation.value) if operation is not None else None


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="erpgraph"'},
    )


class BearerAuth:
    """Every HTTP request to /graphql needs a valid token; only the GraphiQL page is open."""

    def __init__(self, app: ASGIApp, *, graphiql: bool) -> None:
        self.app = app
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.graphiql and request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            await self.app(scope, receive, send)
            return
        header = request.headers.get("authorization")
        if header is None:
            await _unauthorized("missing Authorization: Bearer <token> header")(scope, receive, send)
            return
        resources: Resources = scope["app"].state.resources
        principal = await resources.authenticator(bearer_token(header))
        if principal is None:
            await _unauthorized("invalid or revoked token")(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    """The API; its lifespan opens the database pool and the Redis connection."""
    if not settings.database_url or not settings.redis_url:
        raise ValueError("DATABASE_URL and REDIS_URL are required")
    graphiql = not settings.production
    set_max_lines(settings.max_lines)  # the domain's line bound, the one the query cost counts
    list_maxima = ListMaxima()  # what plain lists hold, for the query cost; read in the lifespan
    graphql = GraphQLApp(
        settings,
        schema=build_schema(settings, list_maxima),
        graphql_ide="graphiql" if graphiql else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,  # type: ignore[arg-type]
                             statement_timeout_ms=settings.statement_timeout_ms)
        sessionmaker = make_sessionmaker(engine)
        assert settings.redis_url is not None
        redis = Redis.from_url(settings.redis_url)
        events = EventHub(redis)  # one pub/sub connection per process, fanned out in-process
        events.start()
        authenticator = Authenticator(sessionmaker)
        assert settings.database_url is not None
        revocations = RevocationListener(asyncpg_dsn(settings.database_url), authenticator, events)
        revocations.start()
        app.state.search_slots = search_slots(settings.max_concurrent_searches)
        app.state.list_maxima = list_maxima
        reads = await ReadPath.open(settings, list_maxima) if settings.compiled_reads else None
        app.state.resources = Resources(
            engine, sessionmaker, authenticator, redis, events=events,
            event_orders=one_by(sessionmaker, SalesOrderRow, SalesOrderRow.id, cache=False), reads=reads,
        )
        try:
            async with list_maxima.kept_fresh(sessionmaker):
                yield
        finally:
            if reads is not None:
                await reads.close()
            await revocations.stop()
            await events.stop()
            await redis.aclose()
            await engine.dispose()

    async def health(request: Request) -> Response:
        return Response(json.dumps({"status": "ok"}), media_type="application/json")

    routes: list[Any] = [
        # Every method reaches the view, which refuses all but GET and POST with a JSON 405.
        Route(GRAPHQL_PATH, graphql),
        WebSocketRoute(GRAPHQL_PATH, graphql),
        Route("/health", health),
    ]
    if graphiql:
        routes.append(Mount(STATIC_PATH, static_app(), name="graphiql-static"))
    app = Starlette(routes=routes, lifespan=lifespan)
    # inside auth (keys belong to a token) and the body limit (it buffers the body)
    app.add_middleware(Idempotency, path=GRAPHQL_PATH, lease_s=settings.idempotency_lease_s)
    app.add_middleware(BearerAuth, graphiql=graphiql)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)  # outermost: before auth
    return app
