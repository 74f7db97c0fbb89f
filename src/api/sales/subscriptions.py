"""``Subscription.orderStatusChanged``: replay after a cursor, then live, with no gap.

Handover: subscribe to the hub first (events published from then on are buffered),
then replay from ``domain_events`` every final event after the cursor, then emit the
buffered and live events whose position is past the last one emitted. The relay
publishes only final events, in position order, so an event is either final before
the replay's read (and replayed) or published after the hub subscription (and
buffered); the position check drops what both delivered. When the hub drops the
subscriber (slow consumer, Redis reconnect) the stream repeats the handover from its
last position instead of losing anything.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Iterable
from datetime import datetime

import strawberry
from graphql import GraphQLError
from sqlalchemy import text
from strawberry.dataloader import DataLoader

from api.context import Context, Info
from api.dataloaders import RowOf, present
from api.events import ROUTES, Event, EventHub, HubUnavailable
from api.permissions import can, checks
from api.relay import decode_id
from api.sales.types import OrderStatus, SalesOrder
from domain.identity.scopes import Scope
from domain.sales.models import SalesOrder as SalesOrderRow
from domain.sales.status import STATUS_CHANGED
from domain.sales.status_stream import (
    REPLAY_PAGE,
    EventPosition,
    StatusChange,
    decode_cursor,
    read_final,
)
from domain.shared.db import SessionMaker
from domain.shared.errors import DomainError, ErrorCode
from domain.shared.events import EVENT_HORIZON

_MAX_ID = 2**63 - 1


def _status_routes(event: Event) -> Iterable[Hashable]:
    keys: list[Hashable] = [("order", event.entity_id)]
    customer_id = event.payload.get("customerId")
    if customer_id is not None:
        keys.append(("customer", int(customer_id)))
    return keys


ROUTES[STATUS_CHANGED] = _status_routes


@strawberry.type(
    description=(
        "One status change of one order. `cursor` orders all events of the graph; pass it "
        "back as `after` to resume a subscription without gaps."
    )
)
class OrderStatusEvent:
    order_pk: strawberry.Private[int]
    cursor: str
    status: OrderStatus
    previous_status: OrderStatus | None
    reason: str | None
    occurred_at: datetime

    @strawberry.field
    async def order(self, info: Info) -> SalesOrder:
        request = info.context.request
        loader: DataLoader[int, RowOf[SalesOrderRow] | None]
        if request is not None and hasattr(request.app.state, "resources"):
            loader = request.app.state.resources.event_orders  # batches across subscribers
        else:
            loader = info.context.loaders.sales.order
        return SalesOrder.from_row(present(await loader.load(self.order_pk)))

    @classmethod
    def from_change(cls, change: StatusChange) -> OrderStatusEvent:
        return cls(
            order_pk=change.order_id,
            cursor=change.cursor,
            status=OrderStatus(change.status),
            previous_status=OrderStatus(change.previous_status) if change.previous_status else None,
            reason=change.reason,
            occurred_at=change.occurred_at,
        )


def _change(event: Event) -> StatusChange:
    return StatusChange.from_event(
        EventPosition(*event.position), event.entity_id, event.payload, event.occurred_at
    )


async def _start_position(sessionmaker: SessionMaker) -> EventPosition:
    """Just below every event not yet final: where a subscription without ``after`` starts.

    Every event at or below it is final (already committed, so not "live"), every event
    above it is not; a resync replays from here.
    """
    async with sessionmaker() as session:
        horizon = (await session.execute(text(f"SELECT {EVENT_HORIZON}"))).scalar_one()
    return EventPosition(int(horizon) - 1, _MAX_ID)


async def status_changes(
    hub: EventHub,
    sessionmaker: SessionMaker,
    after: EventPosition | None,
    *,
    order_id: int | None = None,
    customer_id: int | None = None,
) -> AsyncGenerator[StatusChange, None]:
    """Status changes after ``after`` (from now when None), replayed then live; never ends."""
    key: Hashable = (
        ("order", order_id) if order_id is not None
        else ("customer", customer_id) if customer_id is not None
        else None
    )
    last = after
    while True:
        async with hub.subscribe(STATUS_CHANGED, key) as live:
            if last is None:
                last = await _start_position(sessionmaker)
            else:
                while True:
                    async with sessionmaker() as session:
                        page = await read_final(
                            session, last, order_id=order_id, customer_id=customer_id
                        )
                    for change in page:
                        yield change
                        last = change.position
                    if len(page) < REPLAY_PAGE:
                        break
            while (event := await live.next()) is not None:
                change = _change(event)
                if change.position <= last or not change.matches(order_id, customer_id):
                    continue
                yield change
                last = change.position
        # The hub dropped us (we fell behind, or Redis reconnected): resync from `last`.


def _visible_customers(context: Context) -> Callable[[int | None], Awaitable[bool]]:
    """Whether the viewer's fence shows a customer's events (a partner's own customers only).

    A customer once seen stays seen for the subscription (links are not taken back while it
    runs); one not seen is asked again, since the partner may link it meanwhile.
    """
    fence = context.fence
    seen: set[int] = set()

    async def visible(customer_id: int | None) -> bool:
        if fence.open:
            return True
        if customer_id is None:
            return False
        if customer_id not in seen:
            async with context.sessionmaker() as session:
                if not await fence.sees_customer(session, customer_id):
                    return False
            seen.add(customer_id)
        return True

    return visible


def _forbidden(scope: Scope) -> GraphQLError:
    return GraphQLError(f"FORBIDDEN: needs scope {scope.value}", extensions={"code": "FORBIDDEN"})


def _hub(context: Context) -> EventHub:
    hub: EventHub = context.request.app.state.resources.events
    return hub


@strawberry.type
class SalesSubscription:
    @strawberry.subscription(
        description=(
            "Status changes of one order, or of all orders of one customer, or of all orders. "
            "With `after`, events after that cursor are replayed first."
        )
    )
    @checks(Scope.SALES_READ)
    async def order_status_changed(
        self,
        info: Info,
        order_id: strawberry.ID | None = None,
        customer_id: strawberry.ID | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[OrderStatusEvent, None]:
        if not can(info, Scope.SALES_READ):
            raise _forbidden(Scope.SALES_READ)
        # a DomainError becomes a GraphQL error with code and field (api.errors.DomainErrors)
        order_pk = decode_id(order_id, "SalesOrder", "orderId") if order_id is not None else None
        customer_pk = decode_id(customer_id, "Customer", "customerId") if customer_id is not None else None
        position = decode_cursor(after, "after") if after is not None else None
        context = info.context
        loaders = context.loaders
        if order_pk is not None and await loaders.sales.order.load(order_pk) is None:
            raise DomainError.one(ErrorCode.NOT_FOUND, "sales order not found", ["orderId"])
        if customer_pk is not None and await loaders.crm.customer.load(customer_pk) is None:
            raise DomainError.one(ErrorCode.NOT_FOUND, "customer not found", ["customerId"])
        changes = status_changes(
            _hub(context), context.sessionmaker, position, order_id=order_pk, customer_id=customer_pk
        )
        visible = _visible_customers(context)
        try:
            async for change in changes:
                if not await visible(change.customer_id):
                    continue  # an order of a customer the partner's fence hides, replayed or live
                # A websocket's context (and its loaders' cache) lives as long as the
                # connection: each event must see the order as it is now.
                context.__dict__.pop("loaders", None)
                yield OrderStatusEvent.from_change(change)
        except HubUnavailable as error:
            raise GraphQLError(str(error), extensions={"code": "UNAVAILABLE"}) from None
        finally:
            await changes.aclose()
