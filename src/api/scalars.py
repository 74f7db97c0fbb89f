"""The ``Decimal`` scalar: a string on the wire, never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode


def serialize_decimal(value: Decimal) -> str:
    """At least two decimals, and as many more as the value needs ("2.50", "0.1234")."""
    value = Decimal(value)
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{value:.{places}f}"


def parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("Decimal must be a string such as \"12.50\"")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not result.is_finite():
        raise ValueError("Decimal must be finite")
    return result


def parse_decimal_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Decimal:
    if isinstance(node, (StringValueNode, IntValueNode, FloatValueNode)):
        return parse_decimal(node.value)  # the source text: no float rounding
    raise ValueError("Decimal must be a string or number literal")


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description="Exact decimal number, sent as a string (e.g. \"1250.00\").",
    serialize=serialize_decimal,
    parse_value=parse_decimal,
    parse_literal=parse_decimal_literal,
)

SCALAR_MAP: dict[object, Any] = {Decimal: DecimalScalar}
