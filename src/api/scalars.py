"""The ``Decimal``, ``Date`` and ``DateTime`` scalars, parsed strictly.

A value that does not parse is refused while the request's variables and literals are
coerced, before any resolver runs, as a GraphQL error with ``extensions.code`` INVALID:
it never reaches Python arithmetic or PostgreSQL (``"1e1000000"``, ``"0001-01-01"``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import strawberry
from graphql import FloatValueNode, GraphQLError, IntValueNode, StringValueNode, ValueNode

from domain.shared.errors import ErrorCode

# What PostgreSQL and the domain's arithmetic handle comfortably; documents live well inside it.
EARLIEST_DATE: Final = date(1900, 1, 1)
LATEST_DATE: Final = date(2200, 12, 31)
# ASCII digits, one optional sign and one optional point; no exponent, "_", spaces or other digits.
_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)
# Far beyond any column (NUMERIC(18,6) at most) yet short enough to refuse before arithmetic.
_DECIMAL_MAX_DIGITS: Final = 40
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)


class InvalidValue(GraphQLError, ValueError):
    """A value a scalar refuses; a ValueError too, for callers outside GraphQL."""


def invalid(message: str) -> InvalidValue:
    """A coercion failure: graphql-core keeps the extensions on the request error it reports."""
    return InvalidValue(message, extensions={"code": ErrorCode.INVALID.value})


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def serialize_decimal(value: Decimal) -> str:
    """At least two decimals, and as many more as the value needs ("2.50", "0.1234")."""
    value = Decimal(value)
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{value:.{places}f}"


def parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise invalid('Decimal must be a string such as "12.50"')
    text = value if isinstance(value, str) else str(value)
    if not _DECIMAL.fullmatch(text) or sum(char.isdigit() for char in text) > _DECIMAL_MAX_DIGITS:
        raise invalid(
            f"{_shown(value)} is not a decimal number: ASCII digits with an optional sign "
            f'and point, at most {_DECIMAL_MAX_DIGITS} digits (e.g. "-1250.50")'
        )
    try:
        return Decimal(text)
    except InvalidOperation:  # the pattern makes this unreachable; never a 500 all the same
        raise invalid(f"{_shown(value)} is not a decimal number") from None


def _at(node: ValueNode, error: GraphQLError) -> InvalidValue:
    # graphql-core reports a literal's GraphQLError as it is: give it the literal's location.
    return InvalidValue(error.message, node, extensions=error.extensions)


def parse_decimal_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Decimal:
    if not isinstance(node, (StringValueNode, IntValueNode, FloatValueNode)):
        raise _at(node, invalid("Decimal must be a string or number literal"))
    try:
        return parse_decimal(node.value)  # the source text: no float rounding
    except GraphQLError as error:
        raise _at(node, error) from None


def _in_range(day: date, value: object) -> None:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise invalid(f"{_shown(value)} is outside the dates accepted ({EARLIEST_DATE} to {LATEST_DATE})")


def parse_date(value: Any) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise invalid(f'{_shown(value)} is not a date: use YYYY-MM-DD (e.g. "2026-03-31")')
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise invalid(f"{_shown(value)} is not a date of the calendar") from None
    _in_range(day, value)
    return day


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise invalid(
            f"{_shown(value)} is not a date and time: use ISO 8601, "
            'e.g. "2026-03-31T14:30:00Z" or "2026-03-31T14:30:00+02:00"'
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"{_shown(value)} is not a date and time of the calendar") from None
    _in_range(moment.date(), value)
    return moment


def _string_literal(parse: Any, kind: str) -> Any:
    def parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise _at(node, invalid(f"{kind} must be a string literal"))
        try:
            return parse(node.value)
        except GraphQLError as error:
            raise _at(node, error) from None

    return parse_literal


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description="Exact decimal number, sent as a string (e.g. \"1250.00\").",
    serialize=serialize_decimal,
    parse_value=parse_decimal,
    parse_literal=parse_decimal_literal,
)

DateScalar = strawberry.scalar(
    name="Date",
    description="Date (isoformat)",
    serialize=date.isoformat,
    parse_value=parse_date,
    parse_literal=_string_literal(parse_date, "Date"),
)

DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description="Date with time (isoformat)",
    serialize=datetime.isoformat,
    parse_value=parse_datetime,
    parse_literal=_string_literal(parse_datetime, "DateTime"),
)

SCALAR_MAP: dict[object, Any] = {Decimal: DecimalScalar, date: DateScalar, datetime: DateTimeScalar}
