"""Decimal on the wire, global ids and cursors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from graphql import parse
from hypothesis import given
from hypothesis import strategies as st

from api.relay import decode_id, from_global_id, to_global_id
from api.scalars import parse_decimal, parse_decimal_literal, serialize_decimal
from domain.shared.errors import DomainError, ErrorCode


@pytest.mark.parametrize(("value", "wire"), [
    (Decimal("1250"), "1250.00"), (Decimal("1250.000000"), "1250.00"), (Decimal("2.5"), "2.50"),
    (Decimal("0.123400"), "0.1234"), (Decimal("-3.000001"), "-3.000001"), (Decimal("0E-6"), "0.00"),
    (Decimal("1E+3"), "1000.00"),
])
def test_serialize(value: Decimal, wire: str) -> None:
    assert serialize_decimal(value) == wire


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10**9, max_value=10**9))
def test_serialize_round_trips_exactly(value: Decimal) -> None:
    assert parse_decimal(serialize_decimal(value)) == value


@pytest.mark.parametrize("bad", ["abc", "NaN", "-Infinity", "", True, None, [1]])
def test_parse_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_decimal(bad)


def test_literal_keeps_the_source_digits() -> None:
    node = parse("{ f(x: 0.1000000000000000055511151231257827) }").definitions[0]
    literal = node.selection_set.selections[0].arguments[0].value  # type: ignore[attr-defined]
    assert parse_decimal_literal(literal) == Decimal("0.1000000000000000055511151231257827")


@given(st.sampled_from(["Customer", "Item", "Warehouse"]), st.integers(1, 2**63 - 1))
def test_global_ids_round_trip(type_name: str, pk: int) -> None:
    assert from_global_id(to_global_id(type_name, pk)) == (type_name, pk)


@pytest.mark.parametrize("bad", ["", "x", "!!!", to_global_id("Item", 1)[:-3], "SXRlbTphYmM=", "SXRlbTotMQ=="])
def test_malformed_ids_decode_to_none(bad: str) -> None:
    assert from_global_id(bad) is None


def test_decode_id_names_the_field() -> None:
    with pytest.raises(DomainError) as wrong_type:
        decode_id(to_global_id("Customer", 1), "Item", "lines", "0", "componentId")
    problem = wrong_type.value.problems[0]
    assert (problem.code, problem.field) == (ErrorCode.NOT_FOUND, ("lines", "0", "componentId"))
    with pytest.raises(DomainError) as malformed:
        decode_id("zzz", "Item", "itemId")
    assert malformed.value.problems[0].code == ErrorCode.INVALID
    assert decode_id(to_global_id("Item", 7), "Item") == 7


def test_quantities_in_messages_have_no_trailing_zeros_nor_exponent() -> None:
    from domain.shared.numbers import quantity_text

    assert [quantity_text(Decimal(v)) for v in ("8.000000", "2.500000", "100", "1E+3", "0.000001", "0E-6", "-3.10")] \
        == ["8", "2.5", "100", "1000", "0.000001", "0", "-3.1"]
