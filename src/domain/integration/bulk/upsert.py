"""Customers, suppliers and items applied in batches: one statement per batch.

A batch is one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT (key) DO UPDATE ...
WHERE <a column differs>``: a row that matches the database is not touched (no new
version, no ``updated_at``, no event), so importing a file twice changes nothing. The
same statement appends one domain event per row it created or changed, as the services
do (``customer.created`` with the code, ``customer.updated`` with the changed fields,
likewise ``supplier.*`` and ``item.*``), and for customers a credit-limit history row;
the writeback and webhooks read those events as they read the API's.

Only the columns the file has are written: a column left out of the file keeps its
value on existing rows and gets the table's default on new ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.integration.bulk.kinds import CUSTOMERS, ITEMS, SUPPLIERS, Kind
from domain.integration.bulk.rows import Row, RowError
from domain.shared.names import camel


@dataclass(frozen=True)
class Target:
    """Where a kind's rows go: the table, its key, its event names, each column's SQL type."""

    kind: Kind
    table: str
    entity: str
    event: str
    types: dict[str, str]

    def db_column(self, column: str) -> str:
        return "default_supplier_id" if column == "default_supplier" else column


CUSTOMER_TARGET = Target(CUSTOMERS, "customers", "Customer", "customer", {
    "code": "text", "name": "text", "email": "text", "phone": "text", "segment": "text",
    "tags": "text", "payment_terms_days": "integer", "credit_limit": "numeric",
})
SUPPLIER_TARGET = Target(SUPPLIERS, "suppliers", "Supplier", "supplier", {
    "code": "text", "name": "text", "email": "text", "phone": "text",
    "payment_terms_days": "integer", "active": "boolean",
})
ITEM_TARGET = Target(ITEMS, "items", "Item", "item", {
    "sku": "text", "name": "text", "uom": "text", "kind": "text", "procurement": "text",
    "lead_time_days": "integer", "safety_stock": "numeric", "scrap_rate": "numeric",
    "lot_sizing": "text", "fixed_lot_size": "numeric", "min_order_quantity": "numeric",
    "lot_multiple": "numeric", "list_price": "numeric", "standard_cost": "numeric",
    "default_supplier": "bigint", "active": "boolean",
})
TARGETS = {target.kind.name: target for target in (CUSTOMER_TARGET, SUPPLIER_TARGET, ITEM_TARGET)}


@dataclass
class Outcome:
    """What a batch did: rows created, updated, left as they were, and rows refused."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] | None = None


def upsert_sql(target: Target, columns: Sequence[str]) -> str:
    """The batch statement for the file's ``columns`` (the key among them)."""
    key = target.kind.key[0]
    names = [target.db_column(c) for c in columns]
    raw = [f"{n}_raw" if n == "tags" else n for n in names]
    arrays = ", ".join(f"CAST(:{n} AS {target.types[c]}[])" for n, c in zip(names, columns, strict=True))
    selected = ", ".join(
        f"string_to_array({r}, ';')::varchar(60)[] AS tags" if n == "tags" else n
        for n, r in zip(names, raw, strict=True)
    )
    others = [n for n in names if n != key]
    assignments = ", ".join(f"{n} = excluded.{n}" for n in others)
    differs = " OR ".join(f"t.{n} IS DISTINCT FROM excluded.{n}" for n in others) or "false"
    changed_fields = ", ".join(
        f"CASE WHEN b.{n} IS DISTINCT FROM i.{n} THEN '{camel(n)}' END" for n in sorted(others, key=camel)
    )
    update = (
        f"DO UPDATE SET {assignments}, version = t.version + 1, updated_at = now() WHERE {differs}"
        if others else "DO NOTHING"
    )
    history = ""
    if target.table == "customers" and "credit_limit" in names:
        # every limit set or changed leaves a row (domain.crm.services._record_limit)
        history = """,
        history AS (
            INSERT INTO credit_limit_changes (customer_id, previous_limit, new_limit, changed_by)
            SELECT c.id, b.credit_limit, i.credit_limit, CAST(:actor AS text)
            FROM changed c JOIN input i ON i.code = c.code LEFT JOIN before b ON b.id = c.id
            WHERE (b.id IS NULL AND i.credit_limit <> 0) OR b.credit_limit IS DISTINCT FROM i.credit_limit
        )"""
    return f"""
        WITH input AS (
            SELECT {selected} FROM unnest({arrays}) AS u({", ".join(raw)})
        ),
        before AS (
            SELECT t.* FROM {target.table} t JOIN input i ON t.{key} = i.{key}
        ),
        changed AS (
            INSERT INTO {target.table} AS t ({", ".join(names)})
            SELECT {", ".join(names)} FROM input
            ON CONFLICT ({key}) {update}
            RETURNING t.id, t.{key}, (t.xmax = 0) AS created
        ),
        events AS (
            INSERT INTO domain_events (type, entity_type, entity_id, payload, actor)
            SELECT CASE WHEN c.created THEN '{target.event}.created' ELSE '{target.event}.updated' END,
                   '{target.entity}', c.id,
                   CASE WHEN c.created THEN jsonb_build_object('{key}', c.{key})
                        ELSE jsonb_build_object('fields', to_jsonb(array_remove(
                            ARRAY[{changed_fields or "NULL"}]::text[], NULL))) END,
                   CAST(:actor AS text)
            FROM changed c JOIN input i ON i.{key} = c.{key} LEFT JOIN before b ON b.id = c.id
            ORDER BY c.id
        ){history}
        SELECT coalesce(sum(CASE WHEN created THEN 1 ELSE 0 END), 0) AS created,
               coalesce(sum(CASE WHEN created THEN 0 ELSE 1 END), 0) AS updated
        FROM changed
    """


async def apply(
    session: AsyncSession, target: Target, columns: Sequence[str], rows: Sequence[Row], actor: str
) -> Outcome:
    """Upsert valid, distinct-keyed ``rows`` of the file's ``columns``; items' suppliers are looked up first."""
    errors: list[RowError] = []
    if "default_supplier" in columns:
        rows, errors = await _resolve_suppliers(session, rows)
    if not rows:
        return Outcome(errors=errors)
    params: dict[str, Any] = {"actor": actor}
    for column in columns:
        name = target.db_column(column)
        values = [row.values[column] for row in rows]
        if column == "tags":
            values = [";".join(v) for v in values]
        params[name] = values
    result = (await session.execute(text(upsert_sql(target, columns)), params)).one()
    created, updated = int(result.created), int(result.updated)
    return Outcome(created, updated, len(rows) - created - updated, errors)


async def _resolve_suppliers(session: AsyncSession, rows: Sequence[Row]) -> tuple[list[Row], list[RowError]]:
    """Items name their default supplier by code: a known, active one (as createItem requires)."""
    codes = {row.values["default_supplier"] for row in rows} - {None}
    found = {
        r.code: (r.id, r.active)
        for r in await session.execute(
            text("SELECT code, id, active FROM suppliers WHERE code = ANY(CAST(:codes AS text[]))"),
            {"codes": sorted(codes)},
        )
    } if codes else {}
    kept, errors = [], []
    for row in rows:
        code = row.values["default_supplier"]
        if code is None:
            kept.append(row)
        elif code not in found:
            errors.append(RowError(row.number, "default_supplier", f"supplier {code!r} not found"))
        elif not found[code][1]:
            errors.append(RowError(row.number, "default_supplier",
                                   f"supplier {code} is inactive: it takes no new orders"))
        else:
            kept.append(Row(row.number, row.values | {"default_supplier": found[code][0]}))
    return kept, errors
