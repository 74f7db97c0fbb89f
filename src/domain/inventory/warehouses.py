"""Warehouses: created and renamed by people; exactly one is the default.

The default warehouse is where stock without a named warehouse goes and where it is
drawn from first (``allocation.draw_order``). The first warehouse of a database is
the default whatever was asked; making another one the default takes the flag off
the previous one in the same transaction, and the default cannot simply be
un-defaulted (another one must be made the default instead).

Every command that may change which warehouse is the default takes one advisory lock
first, then its rows: two of them queue instead of racing, and the partial unique
index ``one_default_warehouse`` backs that up (a violation is a CONFLICT to retry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory.models import Warehouse
from domain.shared.edits import check_changes
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.names import CODE, camel
from domain.shared.numbers import check_text
from domain.shared.versions import lock_versioned

DEFAULT_LOCK_KEY = 0x57484446  # "WHDF"
CODE_LENGTH = 20
NAME_LENGTH = 120
UPDATABLE = ("name", "is_default")


def _check(problems: Problems, values: Mapping[str, Any]) -> None:
    if "name" in values:
        check_text(problems, values["name"], "name", required=True, max_length=NAME_LENGTH)


async def _lock_default(session: AsyncSession) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEFAULT_LOCK_KEY})


async def _unset_default(session: AsyncSession) -> None:
    """Take the flag off the current default (its version rises: it changed)."""
    await session.execute(
        update(Warehouse)
        .where(Warehouse.is_default)
        .values(is_default=False, version=Warehouse.version + 1)
        .execution_options(synchronize_session=False)
    )


async def create_warehouse(
    session: AsyncSession, code: str, name: str, is_default: bool = False, actor: str | None = None
) -> Warehouse:
    problems = Problems()
    code = code.strip()
    if not CODE.match(code) or len(code) > CODE_LENGTH:
        problems.invalid(f"code must be 1-{CODE_LENGTH} letters, digits, '.', '_' or '-'", "code")
    _check(problems, {"name": name})
    problems.raise_if_any()

    await _lock_default(session)
    if (await session.execute(select(Warehouse.id).where(Warehouse.code == code))).first() is not None:
        raise DomainError.one(ErrorCode.DUPLICATE, f"warehouse code {code!r} is taken", ["code"])
    first = not await session.scalar(select(exists().where(Warehouse.id.is_not(None))))
    if is_default and not first:
        await _unset_default(session)
    warehouse = Warehouse(code=code, name=name.strip(), is_default=is_default or first)
    session.add(warehouse)
    await session.flush()
    await record_event(
        session, "warehouse.created", "Warehouse", warehouse.id,
        {"code": code, "isDefault": warehouse.is_default}, actor,
    )
    return warehouse


async def update_warehouse(
    session: AsyncSession, warehouse_id: int, changes: Mapping[str, Any], actor: str | None = None,
    *, expected_version: int | None = None,
) -> Warehouse:
    """Apply ``changes`` (name, is_default; only the keys given, neither may be null)."""
    problems = Problems()
    check_changes(problems, changes, UPDATABLE)
    _check(problems, {k: v for k, v in changes.items() if v is not None})
    problems.raise_if_any()

    if "is_default" in changes:
        await _lock_default(session)
    warehouse = await lock_versioned(session, Warehouse, warehouse_id, expected_version, "warehouse")
    if changes.get("is_default") is False and warehouse.is_default:
        raise DomainError.one(
            ErrorCode.INVALID_STATE,
            f"{warehouse.code} is the default warehouse: make another warehouse the default instead",
            ["isDefault"],
        )
    if changes.get("is_default") is True and not warehouse.is_default:
        await _unset_default(session)  # before the flag is set: the index allows one at a time
        warehouse.is_default = True
    if "name" in changes:
        warehouse.name = changes["name"].strip()
    await session.flush()
    await record_event(
        session, "warehouse.updated", "Warehouse", warehouse.id,
        {"fields": sorted(camel(k) for k in changes)}, actor,
    )
    await session.refresh(warehouse)
    return warehouse


async def default_warehouse_id(session: AsyncSession) -> int | None:
    return (
        await session.execute(
            select(Warehouse.id).order_by(Warehouse.is_default.desc(), Warehouse.id).limit(1)
        )
    ).scalar()
