"""Relay positions, messages and worker settings, without services."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from domain.shared.db import asyncpg_dsn
from erpgraph.settings import Settings
from workers.outbox import START, Position, RelayConfig, encode_event
from workers.settings import worker_settings


def test_position_round_trips_and_orders_by_txid_before_id() -> None:
    position = Position(9_000_000_000, 12)
    assert Position.decode(position.encode().encode()) == position
    assert Position.decode(position.encode()) == position
    assert Position.decode(None) == START == Position(0, 0)
    assert Position(5, 100) < Position(6, 1)


def test_message_has_the_public_field_names() -> None:
    row = SimpleNamespace(
        id=3,
        txid=777,
        type="order.confirmed",
        entity_type="order",
        entity_id=41,
        payload={"total": "12.50", "note": "Grüße"},
        occurred_at=datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
    )
    message = encode_event(row)
    assert "Grüße" in message
    assert json.loads(message) == {
        "id": 3,
        "type": "order.confirmed",
        "entityType": "order",
        "entityId": 41,
        "payload": {"total": "12.50", "note": "Grüße"},
        "occurredAt": "2025-01-02T03:04:05.000678+00:00",
        "position": "777:3",
    }


def test_worker_settings_are_fresh_per_worker() -> None:
    settings = Settings(DATABASE_URL="postgresql://u@db/x", REDIS_URL="redis://cache:6380/2")
    config = RelayConfig(channel="c", cursor_key="k", lock_key="l")
    first = worker_settings(settings, relay=config, queue_name="q")
    second = worker_settings(settings)

    # the relay queues what events ask for on the worker's own queue
    assert first["ctx"] == {"settings": settings, "relay": replace(config, queue_name="q")}
    assert second["ctx"]["relay"] == RelayConfig(queue_name=settings.queue_name)
    assert first["ctx"] is not second["ctx"]
    assert first["cron_jobs"][0] is not second["cron_jobs"][0]
    # the writeback is off without a Tryton URL, on when it is set
    assert second["ctx"]["relay"].writeback is None
    on = Settings(DATABASE_URL="postgresql://u@db/x", REDIS_URL="redis://c/0", ERPGRAPH_TRYTON_URL="http://erp:8000")
    assert worker_settings(on)["ctx"]["relay"].writeback == "tryton"
    assert first["queue_name"] == "q"
    assert (first["redis_settings"].host, first["redis_settings"].port) == ("cache", 6380)
    assert first["redis_settings"].database == 2
    relay_cron, sweep_cron, purge_cron, hooks_cron = first["cron_jobs"]
    assert relay_cron.name == "cron:relay_events" and relay_cron.unique
    assert relay_cron.second == set(range(60))
    # the ERP writeback's sweeper: every minute, on one worker of many
    assert sweep_cron.name == "cron:sweep_writeback" and sweep_cron.unique
    assert (sweep_cron.minute, sweep_cron.second) == (None, 30)
    # expired Idempotency-Key rows: hourly, on one worker of many
    assert purge_cron.name == "cron:purge_idempotency_keys" and purge_cron.unique
    assert (purge_cron.minute, purge_cron.second) == (17, 0)
    # webhook attempts whose job Redis lost: every minute, on one worker of many
    assert hooks_cron.name == "cron:sweep_webhook_deliveries" and hooks_cron.unique
    assert (hooks_cron.minute, hooks_cron.second) == (None, 41)


def test_worker_settings_accept_an_embedded_redis_socket() -> None:
    settings = Settings(
        DATABASE_URL="postgresql://u@db/x", REDIS_URL="unix:///tmp/r/redis.socket?db=9"
    )
    redis_settings = worker_settings(settings)["redis_settings"]
    assert (redis_settings.unix_socket_path, redis_settings.database) == ("/tmp/r/redis.socket", 9)


def test_worker_settings_need_both_urls() -> None:
    with pytest.raises(ValueError):
        worker_settings(Settings(DATABASE_URL="postgresql://u@db/x", REDIS_URL=None))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@db:5433/x",
        "postgresql+asyncpg://u:p@db:5433/x",
        "postgres://u:p@db:5433/x",
    ],
)
def test_listener_dsn_drops_the_driver(url: str) -> None:
    assert asyncpg_dsn(url) == "postgresql://u:p@db:5433/x"
