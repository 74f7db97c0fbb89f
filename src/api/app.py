"""The ASGI application: /graphql over HTTP and graphql-transport-ws, behind bearer tokens."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from graphql import GraphQLError, parse
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
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

from api.auth import Authenticator, bearer_token
from api.body_limit import BodySizeLimit
from api.context import Context
from api.dataloaders import RowOf, one_by
from api.events import EventHub
from api.graphiql import STATIC_PATH, render_graphiql, static_app
from api.schema import build_schema
from api.search import search_slots
from api.ws_limits import LimitedTransportWSHandler, PendingInits
from domain.sales.models import SalesOrder as SalesOrderRow
from domain.shared.db import SessionMaker, make_engine, make_sessionmaker
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
        )

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        token = bearer_token(header) if header else params.get("token")
        resources: Resources = context.request.app.state.resources
        principal = await resources.authenticator(token if isinstance(token, str) else None)
        if principal is None:
            raise ConnectionRejectionError()
        context.principal = principal

    async def execute_single(
        self, request: Any, request_adapter: Any, sub_response: Any, context: Context,
        root_value: None, request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # Executed over HTTP, a subscription's field would resolve to null: say what to use instead.
        if _is_subscription(request_data.query, request_data.operation_name):
            return ExecutionResult(data=None, errors=[GraphQLError(
                SUBSCRIPTIONS_NEED_A_WEBSOCKET, extensions={"code": ErrorCode.INVALID.value, "field": []},
            )])
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(render_graphiql(GRAPHQL_PATH))


def _is_subscription(query: str | None, operation_name: str | None) -> bool:
    if not query or "subscription" not in query:
        return False
    try:
        return get_operation_type(parse(query), operation_name) == OperationType.SUBSCRIPTION
    except (GraphQLError, RuntimeError):  # not parsable, or no such operation: execution reports it
        return False


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
    graphql = GraphQLApp(
        settings,
        schema=build_schema(settings),
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
        app.state.search_slots = search_slots(settings.max_concurrent_searches)
        app.state.resources = Resources(
            engine, sessionmaker, Authenticator(sessionmaker), redis, events=events,
            event_orders=one_by(sessionmaker, SalesOrderRow, SalesOrderRow.id, cache=False),
        )
        try:
            yield
        finally:
            await events.stop()
            await redis.aclose()
            await engine.dispose()

    async def health(request: Request) -> Response:
        return Response(json.dumps({"status": "ok"}), media_type="application/json")

    routes: list[Any] = [
        Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
        WebSocketRoute(GRAPHQL_PATH, graphql),
        Route("/health", health),
    ]
    if graphiql:
        routes.append(Mount(STATIC_PATH, static_app(), name="graphiql-static"))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(BearerAuth, graphiql=graphiql)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)  # outermost: before auth
    return app
