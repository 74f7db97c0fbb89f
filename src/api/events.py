"""The per-process event hub: one Redis pub/sub subscription, fanned out to local subscribers.

The relay (``workers.outbox``) publishes every committed domain event once, in
``(txid, id)`` order, to one channel. Each API process holds one pub/sub connection
to it and hands each message to the in-process subscribers whose routing key it
carries, through a bounded buffer per subscriber.

Pub/sub is fire-and-forget, so the hub never pretends to be reliable: whenever a
subscriber may have missed a message it is marked ``lost`` and gets nothing more.
That happens when its buffer is full (a slow consumer: dropping it keeps the
dispatcher from ever waiting on one subscriber), and for every subscriber when the
Redis connection drops or is re-established. A lost subscriber drains what it has,
then resynchronises from ``domain_events`` by position (see
``api.sales.subscriptions``), so loss costs a replay query, never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

logger = logging.getLogger(__name__)

DEFAULT_CHANNEL = "erpgraph:events"
BUFFER_SIZE = 1_000
READY_TIMEOUT_S = 5.0
RECONNECT_S = 0.5
# An idle connection is pinged this often so a dead one is noticed.
IDLE_PING_S = 15.0


@dataclass(frozen=True, slots=True)
class Event:
    """One relayed domain event, as published by ``workers.outbox.encode_event``."""

    position: tuple[int, int]
    type: str
    entity_type: str
    entity_id: int
    payload: dict[str, Any]
    occurred_at: datetime

    @classmethod
    def from_message(cls, data: bytes | str) -> Event:
        message = json.loads(data)
        txid, _, event_id = message["position"].partition(":")
        return cls(
            position=(int(txid), int(event_id)),
            type=message["type"],
            entity_type=message["entityType"],
            entity_id=int(message["entityId"]),
            payload=message["payload"],
            occurred_at=datetime.fromisoformat(message["occurredAt"]),
        )


# Routing keys of an event beyond "every event of its type", by event type. Contexts
# register theirs at import (e.g. order status: by order and by customer).
ROUTES: dict[str, Callable[[Event], Iterable[Hashable]]] = {}

_Topic = tuple[str, Hashable]


class Subscriber:
    """A bounded buffer of events for one consumer.

    ``next()`` returns events in publication order, then None once the subscriber
    is ``lost`` and its buffer is drained: what follows must come from the table.
    """

    __slots__ = ("_buffer", "_limit", "_waiter", "lost", "topic")

    def __init__(self, topic: _Topic, limit: int) -> None:
        self.topic = topic
        self.lost = False
        self._buffer: deque[Event] = deque()
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None

    def _push(self, event: Event) -> bool:
        if len(self._buffer) >= self._limit:
            self._lose()
            return False
        self._buffer.append(event)
        self._wake()
        return True

    def _lose(self) -> None:
        self.lost = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self) -> Event | None:
        while not self._buffer:
            if self.lost:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._buffer.popleft()


class HubUnavailable(Exception):
    """The hub has no working Redis subscription (Redis unreachable)."""


class EventHub:
    """One pub/sub subscription per process, dispatched to local :class:`Subscriber` s."""

    def __init__(
        self, redis: Redis, channel: str = DEFAULT_CHANNEL, *, buffer_size: int = BUFFER_SIZE
    ) -> None:
        self._redis = redis
        self.channel = channel
        self.buffer_size = buffer_size
        self._topics: dict[_Topic, set[Subscriber]] = {}
        self._callbacks: dict[str, list[Callable[[Event], None]]] = {}
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._topics.values())

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"event-hub:{self.channel}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})
        self._lose_all()

    @contextlib.asynccontextmanager
    async def subscribe(self, event_type: str, key: Hashable = None) -> AsyncIterator[Subscriber]:
        """Receive events of ``event_type`` (only those routed to ``key`` when given).

        Returns once the hub's own Redis subscription is confirmed, so every event
        published after this returns reaches the subscriber (or marks it lost).
        """
        self.start()
        try:
            await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT_S)
        except TimeoutError:
            raise HubUnavailable("live events are unavailable (no Redis subscription)") from None
        topic: _Topic = (event_type, key)
        subscriber = Subscriber(topic, self.buffer_size)
        self._topics.setdefault(topic, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            self._remove(subscriber)

    def on(self, event_type: str, callback: Callable[[Event], None]) -> None:
        """Call ``callback`` with every ``event_type`` event, for the process's own use (not a
        subscriber: it never falls behind, and it is not counted in ``subscriber_count``).
        It must not block (schedule a task for any waiting)."""
        self._callbacks.setdefault(event_type, []).append(callback)

    def dispatch(self, event: Event) -> None:
        """Hand ``event`` to its subscribers; never waits on any of them."""
        for callback in self._callbacks.get(event.type, ()):
            try:
                callback(event)
            except Exception:
                logger.exception("event hub: callback for %s failed", event.type)
        topics: list[_Topic] = [(event.type, None)]
        route = ROUTES.get(event.type)
        if route is not None:
            topics.extend((event.type, key) for key in route(event))
        for topic in topics:
            subscribers = self._topics.get(topic)
            if not subscribers:
                continue
            for subscriber in list(subscribers):
                if not subscriber._push(event):
                    self._remove(subscriber)
                    logger.info("subscriber on %s fell behind; it resynchronises", topic)

    def _remove(self, subscriber: Subscriber) -> None:
        subscribers = self._topics.get(subscriber.topic)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._topics[subscriber.topic]

    def _lose_all(self) -> None:
        topics, self._topics = self._topics, {}
        for subscribers in topics.values():
            for subscriber in subscribers:
                subscriber._lose()

    async def _run(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("event hub lost its Redis subscription, reconnecting: %s", exc)
            finally:
                self._ready.clear()
                self._lose_all()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), 5)  # type: ignore[no-untyped-call]  # redis-py
            await asyncio.sleep(RECONNECT_S)

    async def _listen(self, pubsub: Any) -> None:
        while True:
            message = await pubsub.get_message(timeout=IDLE_PING_S)
            if message is None:
                await pubsub.ping()
                continue
            kind = message["type"]
            if kind == "subscribe":
                # Also sent when redis-py silently reconnected and resubscribed:
                # anything published in between is gone for everyone.
                self._lose_all()
                self._ready.set()
            elif kind == "message":
                try:
                    event = Event.from_message(message["data"])
                except (ValueError, KeyError, TypeError) as exc:
                    logger.warning("event hub skips an unreadable message: %s", exc)
                    continue
                self.dispatch(event)
