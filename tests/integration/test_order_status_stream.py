"""``orderStatusChanged``: replay after a cursor, filters, scopes, and gap-free handover."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.context import Context
from api.relay import to_global_id
from domain.crm.models import Customer
from domain.identity.scopes import ROLE_SCOPES, Scope
from domain.identity.services import Principal
from domain.sales.models import SalesOrder
from domain.sales.status import change_status
from domain.sales.status_stream import EventPosition, decode_cursor, encode_cursor, read_final
from domain.shared.errors import DomainError
from workers.outbox import RelayConfig, relay

START = encode_cursor(EventPosition(0, 0))
SUBSCRIPTION = """
subscription ($orderId: ID, $customerId: ID, $after: String) {
  orderStatusChanged(orderId: $orderId, customerId: $customerId, after: $after) {
    cursor status previousStatus reason occurredAt order { id number status }
  }
}
"""


# ---------------------------------------------------------------- helpers (also used by e2e)


async def create_order(sessionmaker: async_sessionmaker[AsyncSession], customer_id: int | None = None,
                       ) -> tuple[int, int]:
    """(order id, customer id) of a new DRAFT order; a new customer unless one is given."""
    async with sessionmaker.begin() as session:
        if customer_id is None:
            code = f"C-{uuid.uuid4().hex[:8]}"
            customer = Customer(code=code, name=f"Customer {code}")
            session.add(customer)
            await session.flush()
            customer_id = customer.id
        order = SalesOrder(number=f"SO-{uuid.uuid4().hex[:10]}", customer_id=customer_id)
        session.add(order)
        await session.flush()
        return order.id, customer_id


async def set_status(sessionmaker: async_sessionmaker[AsyncSession], order_id: int, status: str,
                     reason: str | None = None) -> None:
    """One unit of work: lock the order first (as every writer must), change its status."""
    async with sessionmaker.begin() as session:
        await lock_and_change(session, order_id, status, reason)


async def lock_and_change(session: AsyncSession, order_id: int, status: str,
                          reason: str | None = None) -> None:
    order = (await session.execute(
        select(SalesOrder).where(SalesOrder.id == order_id).with_for_update()
    )).scalar_one()
    await change_status(session, order, status, reason=reason, actor="tester")


async def relay_until(redis: aioredis.Redis, engine: AsyncEngine, expected: int,
                      config: RelayConfig = RelayConfig()) -> int:
    """Relay until ``expected`` events went out (a foreign transaction on a shared server
    can hold the horizon back for a moment)."""
    published = 0
    for _ in range(200):
        published += await relay(redis, engine, config) or 0
        if published >= expected:
            return published
        await asyncio.sleep(0.05)
    return published


class Stream:
    """A subscription consumed by a background task, so waiting never cancels it."""

    def __init__(self, source: AsyncIterator[Any]) -> None:
        self.source = source
        self.items: asyncio.Queue[Any] = asyncio.Queue()
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            await self.flowing.wait()  # paused: the source stays suspended, like a slow client
            try:
                item = await anext(self.source)
            except StopAsyncIteration:
                return
            await self.items.put(item)

    async def take(self, count: int, timeout: float = 10.0) -> list[Any]:
        taken = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while len(taken) < count:
                    taken.append(await self.items.get())
        return taken

    async def nothing_more(self, wait: float = 0.4) -> bool:
        await asyncio.sleep(wait)
        return self.items.empty()

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.wait({self.task})


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def engine(app: Any) -> AsyncEngine:
    return app.state.resources.engine


@pytest.fixture
async def subscribe(app: Any, sessionmaker: Any) -> AsyncIterator[Any]:
    """Start ``orderStatusChanged`` on the real schema: a Stream, or the refusal."""
    schema = app.routes[0].app.schema
    streams: list[Stream] = []

    async def start(*, scopes: frozenset[Scope] = ROLE_SCOPES["sales"], **variables: Any) -> Any:
        principal = Principal(name="t", role="custom", scopes=scopes)
        context = Context(sessionmaker=sessionmaker, settings=None, principal=principal,  # type: ignore[arg-type]
                          request=SimpleNamespace(app=app))
        result = await schema.subscribe(SUBSCRIPTION, variable_values=variables, context_value=context)
        if not hasattr(result, "__aiter__"):
            return result  # an ExecutionResult: refused before the stream started
        stream = Stream(result)
        streams.append(stream)
        return stream

    yield start
    for stream in streams:
        await stream.close()


async def events_of(stream: Stream, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    results = await stream.take(count, timeout)
    for result in results:
        assert result.errors is None, result.errors
    return [result.data["orderStatusChanged"] for result in results]


async def first_error(stream_or_result: Any) -> Any:
    if isinstance(stream_or_result, Stream):
        (result,) = await stream_or_result.take(1)
    else:
        result = stream_or_result
    assert result.errors, result
    return result.errors[0]


def statuses(events: list[dict[str, Any]]) -> list[str]:
    return [event["status"] for event in events]


async def wait_subscribed(app: Any, count: int) -> None:
    hub = app.state.resources.events
    for _ in range(200):
        if hub.subscriber_count >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{hub.subscriber_count} subscribers, expected {count}")


# ---------------------------------------------------------------- tests


def test_cursor_round_trips_and_rejects_garbage() -> None:
    position = EventPosition(2**63 + 5, 42)
    assert decode_cursor(encode_cursor(position)) == position
    for bad in ("", "nope", "ZXZlbnQ6", encode_cursor(EventPosition(1, 2))[:-4], to_global_id("Item", 3),
                "ZXZlbnQ6LTE6Mg==", "ZXZlbnQ6MTp4"):
        with pytest.raises(DomainError):
            decode_cursor(bad, "after")


async def test_replay_after_a_cursor_returns_exactly_the_later_events_then_live_ones(
    app: Any, sessionmaker: Any, redis: aioredis.Redis, engine: AsyncEngine, subscribe: Any
) -> None:
    order_id, _ = await create_order(sessionmaker)
    for status in ("CONFIRMED", "PARTIALLY_SHIPPED", "SHIPPED"):
        await set_status(sessionmaker, order_id, status, reason=f"to {status}")

    everything = await subscribe(after=START)
    replayed = await events_of(everything, 3)
    assert [(e["previousStatus"], e["status"], e["reason"]) for e in replayed] == [
        ("DRAFT", "CONFIRMED", "to CONFIRMED"),
        ("CONFIRMED", "PARTIALLY_SHIPPED", "to PARTIALLY_SHIPPED"),
        ("PARTIALLY_SHIPPED", "SHIPPED", "to SHIPPED"),
    ]
    assert replayed[0]["order"] == {"id": to_global_id("SalesOrder", order_id),
                                    "number": replayed[0]["order"]["number"], "status": "SHIPPED"}
    positions = [decode_cursor(e["cursor"]) for e in replayed]
    assert positions == sorted(positions) and len(set(positions)) == 3

    resumed = await subscribe(after=replayed[0]["cursor"])
    assert statuses(await events_of(resumed, 2)) == ["PARTIALLY_SHIPPED", "SHIPPED"]
    live_only = await subscribe()
    await wait_subscribed(app, 3)
    assert await resumed.nothing_more() and await live_only.nothing_more()

    # The relay publishes the three old events too: nobody may see them twice.
    await set_status(sessionmaker, order_id, "CLOSED")
    assert await relay_until(redis, engine, 4) == 4
    for stream in (everything, resumed, live_only):
        (closed,) = await events_of(stream, 1)
        assert (closed["previousStatus"], closed["status"]) == ("SHIPPED", "CLOSED")
        assert closed["order"]["status"] == "CLOSED"  # the order as it is now, not cached
        assert decode_cursor(closed["cursor"]) > positions[-1]
        assert await stream.nothing_more()
        await stream.close()


async def test_filters_by_order_and_by_customer(
    app: Any, sessionmaker: Any, redis: aioredis.Redis, engine: AsyncEngine, subscribe: Any
) -> None:
    first, customer = await create_order(sessionmaker)
    second, _ = await create_order(sessionmaker, customer)
    other, other_customer = await create_order(sessionmaker)
    await set_status(sessionmaker, first, "CONFIRMED")
    await set_status(sessionmaker, other, "CONFIRMED")
    await set_status(sessionmaker, second, "CONFIRMED")

    by_order = await subscribe(orderId=to_global_id("SalesOrder", first), after=START)
    by_customer = await subscribe(customerId=to_global_id("Customer", customer), after=START)
    all_orders = await subscribe(after=START)
    ids = lambda events: [e["order"]["id"] for e in events]  # noqa: E731
    gid = lambda pk: to_global_id("SalesOrder", pk)  # noqa: E731
    assert ids(await events_of(by_order, 1)) == [gid(first)]
    assert ids(await events_of(by_customer, 2)) == [gid(first), gid(second)]
    assert ids(await events_of(all_orders, 3)) == [gid(first), gid(other), gid(second)]
    await wait_subscribed(app, 3)

    await set_status(sessionmaker, other, "CANCELLED")
    await set_status(sessionmaker, second, "CANCELLED")
    await set_status(sessionmaker, first, "CANCELLED")
    assert await relay_until(redis, engine, 6) == 6
    assert ids(await events_of(by_order, 1)) == [gid(first)]
    assert ids(await events_of(by_customer, 2)) == [gid(second), gid(first)]
    assert ids(await events_of(all_orders, 3)) == [gid(other), gid(second), gid(first)]
    for stream in (by_order, by_customer, all_orders):
        assert await stream.nothing_more()
        await stream.close()
    assert other_customer != customer


async def test_needs_sales_read(app: Any, sessionmaker: Any, subscribe: Any) -> None:
    assert Scope.SALES_READ in ROLE_SCOPES["production"]  # every role reads sales: build one
    refused = await subscribe(scopes=frozenset({Scope.CRM_READ}), after=START)
    error = await first_error(refused)
    assert error.extensions["code"] == "FORBIDDEN" and "sales:read" in error.message
    assert app.state.resources.events.subscriber_count == 0


@pytest.mark.parametrize(("variables", "field"), [
    ({"after": "not-a-cursor"}, "after"),
    ({"after": to_global_id("cursor", 5)}, "after"),
    ({"orderId": to_global_id("Customer", 1)}, "orderId"),
    ({"customerId": "%%%"}, "customerId"),
    ({"orderId": to_global_id("SalesOrder", 999_999)}, "orderId"),  # well formed, unknown
    ({"customerId": to_global_id("Customer", 999_999)}, "customerId"),
])
async def test_bad_input_is_a_graphql_error_without_a_trace(
    subscribe: Any, variables: dict[str, Any], field: str
) -> None:
    error = await first_error(await subscribe(**variables))
    assert error.extensions["field"] == [field]
    assert error.extensions["code"] in ("INVALID", "NOT_FOUND")
    assert "Traceback" not in error.message and "Error" not in error.message


async def test_transactions_committing_out_of_id_order_are_delivered_once_in_order(
    app: Any, sessionmaker: Any, redis: aioredis.Redis, engine: AsyncEngine, subscribe: Any
) -> None:
    """The proof the issue asks for: ids are taken at insert, commits come later."""
    slow_order, _ = await create_order(sessionmaker)
    fast_order, _ = await create_order(sessionmaker)
    before = await subscribe(after=START)
    live = await subscribe()
    await wait_subscribed(app, 2)

    async with sessionmaker() as a, sessionmaker() as b:
        await a.begin()
        await b.begin()
        # A locks its order (taking its xid) and writes first; B writes after it,
        # so B's event has the higher id, and B commits first.
        await lock_and_change(a, slow_order, "CONFIRMED")
        await lock_and_change(b, fast_order, "CONFIRMED")
        a_id = (await a.execute(text("SELECT max(id) FROM domain_events"))).scalar_one()
        await b.commit()

        # B is committed, but A is in flight below it: nothing is final yet.
        assert await relay(redis, engine) == 0
        mid_way = await subscribe(after=START)
        async with sessionmaker() as reader:
            assert await read_final(reader, EventPosition(0, 0)) == []
        assert await before.nothing_more(0.2) and await live.nothing_more(0.1)
        assert await mid_way.nothing_more(0.1)

        # A writes again (a higher id still) and commits last.
        await lock_and_change(a, slow_order, "CANCELLED", reason="late")
        await a.commit()

    assert await relay_until(redis, engine, 3) == 3
    expected = [(to_global_id("SalesOrder", slow_order), "CONFIRMED"),
                (to_global_id("SalesOrder", slow_order), "CANCELLED"),
                (to_global_id("SalesOrder", fast_order), "CONFIRMED")]
    for stream in (before, live, mid_way):
        events = await events_of(stream, 3)
        assert [(e["order"]["id"], e["status"]) for e in events] == expected
        assert await stream.nothing_more()
    # in stream order, but not in id order
    ids = [decode_cursor(e["cursor"]).id for e in events]
    assert ids[0] == a_id and ids[2] < ids[1]

    # Reconnecting after the first event yields exactly the two others.
    again = await subscribe(after=events[0]["cursor"])
    assert [(e["order"]["id"], e["status"]) for e in await events_of(again, 2)] == expected[1:]
    assert await again.nothing_more()
    for stream in (before, live, mid_way, again):
        await stream.close()


async def test_a_subscriber_that_falls_behind_resyncs_from_the_table(
    app: Any, sessionmaker: Any, redis: aioredis.Redis, engine: AsyncEngine, subscribe: Any
) -> None:
    hub = app.state.resources.events
    hub.buffer_size = 2
    order_id, _ = await create_order(sessionmaker)
    other_id, _ = await create_order(sessionmaker)
    slow = await subscribe(orderId=to_global_id("SalesOrder", order_id))
    fast = await subscribe(orderId=to_global_id("SalesOrder", other_id))
    await wait_subscribed(app, 2)
    slow.flowing.clear()  # a client that stops reading: its buffer in the hub fills up

    walk = ["CONFIRMED", "PARTIALLY_SHIPPED", "SHIPPED", "CLOSED", "CANCELLED"]
    for status in walk:
        await set_status(sessionmaker, order_id, status)
    await set_status(sessionmaker, other_id, "CONFIRMED")
    assert await relay_until(redis, engine, 6) == 6
    assert statuses(await events_of(fast, 1)) == ["CONFIRMED"]  # not held up by the slow one

    assert hub.subscriber_count == 1  # the slow one was dropped, not waited for
    slow.flowing.set()
    assert statuses(await events_of(slow, 5)) == walk
    assert await slow.nothing_more()


async def test_redis_reconnect_loses_nothing(
    app: Any, sessionmaker: Any, redis: aioredis.Redis, engine: AsyncEngine, subscribe: Any
) -> None:
    order_id, _ = await create_order(sessionmaker)
    stream = await subscribe(orderId=to_global_id("SalesOrder", order_id))
    await wait_subscribed(app, 1)
    await set_status(sessionmaker, order_id, "CONFIRMED")
    assert await relay_until(redis, engine, 1) == 1
    assert statuses(await events_of(stream, 1)) == ["CONFIRMED"]

    await redis.client_kill_filter(_type="pubsub")
    # published while the hub is disconnected
    await set_status(sessionmaker, order_id, "SHIPPED")
    assert await relay_until(redis, engine, 1) == 1
    await set_status(sessionmaker, order_id, "CLOSED")
    assert await relay_until(redis, engine, 1) == 1
    assert statuses(await events_of(stream, 2)) == ["SHIPPED", "CLOSED"]
    assert await stream.nothing_more()
    await stream.close()
