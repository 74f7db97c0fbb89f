"""Warehouses through the API: exactly one default, versions, refusals that change nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from api.permissions import integrity_problem
from api.relay import to_global_id
from domain.inventory.models import Warehouse
from domain.shared.errors import ErrorCode
from domain.shared.events import DomainEvent
from erpgraph.migrate import alembic_config
from tests.integration.helpers import CREATE_WAREHOUSE, add_warehouse, adjust, create_item, snapshot_table

FIELDS = "warehouse { id code name isDefault version } errors { code field message }"
UPDATE = (
    "mutation($id: ID!, $input: WarehouseUpdateInput!) { updateWarehouse(id: $id, input: $input) { "
    + FIELDS + " } }"
)
LIST = "{ warehouses { code isDefault version } }"


async def create(gql: Any, code: str, default: bool = False, **extra: Any) -> dict[str, Any]:
    values = {"code": code, "name": f"Warehouse {code}", "isDefault": default} | extra
    return dict((await gql(CREATE_WAREHOUSE, {"input": values}))["data"]["createWarehouse"])


async def update(gql: Any, warehouse_id: str, token: str | None = None, **values: Any) -> dict[str, Any]:
    return dict((await gql(UPDATE, {"id": warehouse_id, "input": values}, token=token))["data"]["updateWarehouse"])


async def defaults(gql: Any) -> dict[str, tuple[bool, int]]:
    return {w["code"]: (w["isDefault"], w["version"]) for w in (await gql(LIST))["data"]["warehouses"]}


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_the_first_is_the_default_and_one_made_default_takes_the_flag(gql: Any, sessionmaker: Any) -> None:
    first = await create(gql, "MAIN", default=False, name="Main store")
    assert first["errors"] == []
    assert {k: v for k, v in first["warehouse"].items() if k != "id"} == {
        "code": "MAIN", "name": "Main store", "isDefault": True, "version": 1}
    assert (await create(gql, "EAST"))["warehouse"]["isDefault"] is False
    west = await create(gql, "WEST", default=True)
    assert west["warehouse"]["isDefault"] is True
    # the previous default changed too: its version rose
    assert await defaults(gql) == {"MAIN": (False, 2), "EAST": (False, 1), "WEST": (True, 1)}

    item = await create_item(gql, "BOLT")
    adjusted = await adjust(gql, item, "5")  # no warehouse named: the default
    assert adjusted["stock"]["warehouse"]["code"] == "WEST"

    main = first["warehouse"]["id"]
    back = await update(gql, main, isDefault=True, expectedVersion=2)
    assert back["errors"] == [] and back["warehouse"]["isDefault"] is True and back["warehouse"]["version"] == 3
    assert await defaults(gql) == {"MAIN": (True, 3), "EAST": (False, 1), "WEST": (False, 2)}
    renamed = await update(gql, main, name="  Main warehouse ", expectedVersion=3)
    assert renamed["warehouse"]["name"] == "Main warehouse" and renamed["warehouse"]["version"] == 4
    again = await update(gql, main, isDefault=True)  # already the default: nothing to change
    assert again["errors"] == [] and await defaults(gql) == {"MAIN": (True, 4), "EAST": (False, 1), "WEST": (False, 2)}

    async with sessionmaker() as s:
        events = (await s.execute(
            select(DomainEvent.type, DomainEvent.payload)
            .where(DomainEvent.type.in_(["warehouse.created", "warehouse.updated"])).order_by(DomainEvent.id)
        )).all()
    assert [(t, p) for t, p in events] == [
        ("warehouse.created", {"code": "MAIN", "isDefault": True}),
        ("warehouse.created", {"code": "EAST", "isDefault": False}),
        ("warehouse.created", {"code": "WEST", "isDefault": True}),
        ("warehouse.updated", {"fields": ["isDefault"]}),
        ("warehouse.updated", {"fields": ["name"]}),
        ("warehouse.updated", {"fields": ["isDefault"]}),
    ]


async def test_refusals_change_nothing(gql: Any, sessionmaker: Any, make_token: Any) -> None:
    main = (await create(gql, "MAIN"))["warehouse"]["id"]
    east = (await create(gql, "EAST"))["warehouse"]["id"]
    item = await create_item(gql, "BOLT")
    sales = await make_token("sales")
    before = await snapshot_table(sessionmaker, "warehouses")

    undefault = await update(gql, main, isDefault=False)
    assert errors(undefault) == [("INVALID_STATE", ["isDefault"])]
    assert "make another warehouse the default" in undefault["errors"][0]["message"]
    assert errors(await update(gql, main, name=None)) == [("INVALID", ["name"])]
    assert errors(await update(gql, main, isDefault=None)) == [("INVALID", ["isDefault"])]
    assert errors(await update(gql, main, name=" ")) == [("INVALID", ["name"])]
    assert errors(await update(gql, east, name="x" * 121)) == [("INVALID", ["name"])]
    stale = await update(gql, east, isDefault=True, expectedVersion=7)
    assert errors(stale) == [("CONFLICT", ["expectedVersion"])] and stale["warehouse"] is None
    # ids: garbage is INVALID, another type's or an unknown one NOT_FOUND
    assert errors(await update(gql, "garbage!", name="X")) == [("INVALID", ["id"])]
    assert errors(await update(gql, item, name="X")) == [("NOT_FOUND", ["id"])]
    assert errors(await update(gql, to_global_id("Warehouse", 999_999), name="X")) == [("NOT_FOUND", ["id"])]

    assert errors(await create(gql, "MAIN", name="Again")) == [("DUPLICATE", ["code"])]
    assert errors(await create(gql, "NO SPACES")) == [("INVALID", ["code"])]
    assert errors(await create(gql, "X" * 21)) == [("INVALID", ["code"])]
    assert errors(await create(gql, "OK", name="")) == [("INVALID", ["name"])]

    assert errors(await update(gql, east, token=sales, isDefault=True)) == [("FORBIDDEN", None)]
    refused = (await gql(CREATE_WAREHOUSE, {"input": {"code": "S", "name": "S"}}, token=sales))["data"]
    assert errors(refused["createWarehouse"]) == [("FORBIDDEN", None)]
    assert await snapshot_table(sessionmaker, "warehouses") == before


async def test_the_planner_may_create_warehouses(gql: Any, make_token: Any) -> None:
    planner = await make_token("planner")
    warehouse = await add_warehouse(gql, "MAIN", token=planner)
    assert (await update(gql, warehouse, token=planner, name="Main"))["errors"] == []


async def test_parallel_creates_of_one_code_every_loser_gets_duplicate(gql: Any) -> None:
    results = await asyncio.gather(*(create(gql, "RACE", name=f"Racer {i}") for i in range(12)))
    assert sum(1 for p in results if not p["errors"]) == 1
    assert all(errors(p) == [("DUPLICATE", ["code"])] for p in results if p["errors"]), results
    assert [d for d, _ in (await defaults(gql)).values()] == [True]


async def test_parallel_first_warehouses_and_defaults_never_leave_zero_or_two(gql: Any, sessionmaker: Any) -> None:
    created = await asyncio.gather(*(create(gql, f"W{i}") for i in range(8)))
    assert all(p["errors"] == [] for p in created)
    assert sum(1 for p in created if p["warehouse"]["isDefault"]) == 1
    ids = [p["warehouse"]["id"] for p in created]

    for _ in range(2):
        made = await asyncio.gather(*(update(gql, warehouse, isDefault=True) for warehouse in ids))
        # the default lock queues them: each succeeds in turn, one default at every commit
        assert all(p["errors"] == [] for p in made), made
        async with sessionmaker() as s:
            flags = (await s.execute(select(Warehouse.is_default))).scalars().all()
        assert sorted(flags) == [False] * 7 + [True]


async def test_the_index_refuses_a_second_default_and_the_command_maps_it_to_conflict(
    gql: Any, sessionmaker: Any
) -> None:
    await create(gql, "MAIN")
    with pytest.raises(IntegrityError) as raised:
        async with sessionmaker.begin() as s:
            s.add(Warehouse(code="ROGUE", name="Rogue", is_default=True))
            await s.flush()
    problem = integrity_problem(raised.value)
    assert problem.code == ErrorCode.CONFLICT and problem.field is None

    with pytest.raises(IntegrityError) as duplicate:
        async with sessionmaker.begin() as s:
            s.add(Warehouse(code="MAIN", name="Copy"))
            await s.flush()
    assert (integrity_problem(duplicate.value).code, integrity_problem(duplicate.value).field) == (
        ErrorCode.DUPLICATE, ("code",))


async def test_the_migration_leaves_exactly_one_default(database_url: str, sessionmaker: Any) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0009-1")
    async with sessionmaker.begin() as s:
        await s.execute(text(
            "INSERT INTO warehouses (code, name, is_default) VALUES "
            "('A', 'A', false), ('B', 'B', true), ('C', 'C', true), ('D', 'D', false)"
        ))
    await asyncio.to_thread(command.upgrade, config, "head")
    async with sessionmaker() as s:
        rows = (await s.execute(
            select(Warehouse.code, Warehouse.is_default, Warehouse.version).order_by(Warehouse.code)
        )).all()
    # B was the one stock was drawn from (default, lowest id): it stays the only default
    assert [tuple(r) for r in rows] == [("A", False, 1), ("B", True, 1), ("C", False, 2), ("D", False, 1)]

    await asyncio.to_thread(command.downgrade, config, "0009-1")
    async with sessionmaker.begin() as s:
        await s.execute(text("UPDATE warehouses SET is_default = false"))
    await asyncio.to_thread(command.upgrade, config, "head")
    async with sessionmaker() as s:
        flags = (await s.execute(select(Warehouse.code).where(Warehouse.is_default))).scalars().all()
    assert flags == ["A"]


async def test_twenty_parallel_updates_of_one_version_exactly_one_wins(gql: Any) -> None:
    warehouse = (await create(gql, "MAIN"))["warehouse"]["id"]
    results = await asyncio.gather(*(
        update(gql, warehouse, name=f"Main {i}", expectedVersion=1) for i in range(20)
    ))
    winners = [p for p in results if not p["errors"]]
    assert len(winners) == 1 and winners[0]["warehouse"]["version"] == 2
    assert {e["code"] for p in results for e in p["errors"]} == {"CONFLICT"}
    current = await update(gql, warehouse)
    assert current["warehouse"]["name"] == winners[0]["warehouse"]["name"]
    assert current["warehouse"]["version"] == 2
