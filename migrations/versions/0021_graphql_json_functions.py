"""graphql json functions: the API's scalar and id formats, computed inside PostgreSQL

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 07:20:00

The compiled read path (issue 14) builds a query's whole response as JSON in one SQL
statement, so PostgreSQL must write every value exactly as the resolver path does in
Python. These functions are that one definition on the SQL side, each held byte for byte
to its Python twin by tests/integration/test_graphql_json_functions.py:

* ``graphql_decimal(numeric)``: ``api.scalars.serialize_decimal`` (at least two places,
  more as the value needs: "2.50", "0.1234", "1250.00");
* ``graphql_datetime(timestamptz)``: ``datetime.isoformat`` of the UTC value asyncpg
  returns ("2026-11-30T06:00:00+00:00", microseconds only when not zero);
* ``graphql_id(text, bigint)``: ``api.relay.to_global_id`` (urlsafe base64 of "Type:pk");
* ``graphql_cursor(bigint)``: ``api.relay.encode_cursor``.

Dates need none: ``date::text`` is ISO 8601 in the server's DateStyle, which the
connection fixes (ISO) for every session the API opens.
"""
from __future__ import annotations

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

_FUNCTIONS = """
CREATE FUNCTION graphql_decimal(value numeric) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN round(value, greatest(2, scale(trim_scale(value))))::text;

CREATE FUNCTION graphql_datetime(value timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN to_char(value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE WHEN extract(microseconds FROM value)::bigint % 1000000 = 0 THEN ''
            ELSE '.' || lpad((extract(microseconds FROM value)::bigint % 1000000)::text, 6, '0') END
    || '+00:00';

CREATE FUNCTION graphql_id(type_name text, pk bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN translate(encode(convert_to(type_name || ':' || pk, 'UTF8'), 'base64'), E'+/\\n', '-_');

CREATE FUNCTION graphql_cursor(pk bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN graphql_id('cursor', pk);
"""


def upgrade() -> None:
    for statement in _FUNCTIONS.split(";\n\n"):  # one statement per call: asyncpg prepares each
        op.execute(statement)


def downgrade() -> None:
    for signature in ("graphql_cursor(bigint)", "graphql_id(text, bigint)", "graphql_datetime(timestamptz)",
                      "graphql_decimal(numeric)"):
        op.execute(f"DROP FUNCTION {signature}")
