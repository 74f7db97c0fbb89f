"""The SQL twins of the API's value formats agree byte for byte with the Python ones.

The compiled read path (issue 14) writes responses inside PostgreSQL with the functions of
migration 0021; a value written differently there than by the resolver path would be a
wrong answer. Each function is held here to its Python definition on thousands of values:
edge cases first, then a seeded random sample across the column types we store.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from api.relay import encode_cursor, to_global_id
from api.scalars import serialize_decimal
from tests.conftest import _asyncpg_dsn

SAMPLES = 3000
# (precision, scale) of the numeric columns: quantities, unit amounts, money, percentages, rates
COLUMN_TYPES = ((20, 6), (18, 4), (18, 2), (7, 4), (12, 6))


def _decimals(rng: random.Random) -> list[Decimal]:
    edge = ["0", "0.00", "0.000000", "1", "-1", "0.1", "0.01", "0.001", "0.000001", "-0.000001", "12.5",
            "1250", "1250.000000", "99999999999999.999999", "-99999999999999.999999", "100.10", "2.500000"]
    values = [Decimal(text) for text in edge]
    for _ in range(SAMPLES):
        precision, scale = rng.choice(COLUMN_TYPES)
        digits = rng.randint(1, precision)
        unscaled = rng.randint(0, 10**digits - 1) * rng.choice((1, -1))
        # trailing zeros are common in stored amounts: keep some
        if rng.random() < 0.3:
            unscaled -= unscaled % 10 ** rng.randint(1, scale or 1)
        values.append(Decimal(unscaled).scaleb(-scale))
    return values


def _datetimes(rng: random.Random) -> list[datetime]:
    start = datetime(1970, 1, 1, tzinfo=UTC)
    values = [start, datetime(2026, 11, 30, 6, 0, tzinfo=UTC), datetime(2026, 11, 30, 6, 0, 0, 1, tzinfo=UTC),
              datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(1900, 1, 1, tzinfo=UTC)]
    for _ in range(SAMPLES):
        moment = start + timedelta(seconds=rng.randint(0, 7_000_000_000))
        if rng.random() < 0.7:
            moment = moment.replace(microsecond=rng.randint(0, 999_999))
        values.append(moment)
    return values


async def _sql(database_url: str, query: str, *args: Any) -> list[str]:
    conn = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        return [row[0] for row in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def test_graphql_decimal_writes_what_the_decimal_scalar_writes(database_url: str) -> None:
    values = _decimals(random.Random(14))
    # each value travels as text, the way a numeric column's value reaches the function
    written = await _sql(database_url, "SELECT graphql_decimal(v::numeric) FROM unnest($1::text[]) "
                                       "WITH ORDINALITY AS t(v, n) ORDER BY n", [str(v) for v in values])
    # asyncpg hands the resolver path the column's Decimal: its scale is the column's
    expected = [serialize_decimal(v) for v in values]
    mismatches = [(str(v), sql, py) for v, sql, py in zip(values, written, expected, strict=True) if sql != py]
    assert mismatches == []
    assert len(values) > SAMPLES


async def test_graphql_datetime_writes_what_isoformat_writes(database_url: str) -> None:
    values = _datetimes(random.Random(14))
    written = await _sql(database_url, "SELECT graphql_datetime(v) FROM unnest($1::timestamptz[]) "
                                       "WITH ORDINALITY AS t(v, n) ORDER BY n", values)
    mismatches = [(v, sql) for v, sql in zip(values, written, strict=True) if sql != v.isoformat()]
    assert mismatches == []


async def test_graphql_id_and_cursor_are_the_relay_ids(database_url: str) -> None:
    rng = random.Random(14)
    keys = [1, 9, 10, 99, 12345, 2**31, 2**63 - 1] + [rng.randint(1, 2**63 - 1) for _ in range(SAMPLES)]
    types = ["Item", "Customer", "SalesOrder", "SalesOrderLine", "PurchaseOrder", "Warehouse", "x", "ÄÖ"]
    pairs = [(rng.choice(types), key) for key in keys]
    ids = await _sql(database_url, "SELECT graphql_id(t, k) FROM unnest($1::text[], $2::bigint[]) "
                                   "WITH ORDINALITY AS u(t, k, n) ORDER BY n", [p[0] for p in pairs],
                     [p[1] for p in pairs])
    assert [i for i, (t, k) in zip(ids, pairs, strict=True) if i != to_global_id(t, k)] == []
    cursors = await _sql(database_url, "SELECT graphql_cursor(k) FROM unnest($1::bigint[]) "
                                       "WITH ORDINALITY AS u(k, n) ORDER BY n", keys)
    assert cursors == [encode_cursor(k) for k in keys]
