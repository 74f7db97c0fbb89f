"""Checks on Decimal input (finite, within the column's scale and sign), and quantities in text."""

from __future__ import annotations

from decimal import Decimal

from domain.shared.errors import Problems


def quantity_text(value: Decimal) -> str:
    """A quantity as messages show it: no trailing zeros, no exponent ("8", "2.5", "100", "0.000001").

    Quantities come back from NUMERIC columns at their full scale ("8.000000").
    """
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


def check_decimal(
    problems: Problems,
    value: Decimal | None,
    *field: str,
    places: int,
    positive: bool = False,
    non_negative: bool = False,
    maximum: Decimal | None = None,
    label: str = "value",
) -> None:
    if value is None:
        return
    if not value.is_finite():
        problems.invalid(f"{label} must be a finite number", *field)
        return
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        problems.invalid(f"{label} has more than {places} decimal places", *field)
    if positive and value <= 0:
        problems.invalid(f"{label} must be greater than 0", *field)
    elif non_negative and value < 0:
        problems.invalid(f"{label} must not be negative", *field)
    if maximum is not None and value > maximum:
        problems.invalid(f"{label} must be at most {maximum}", *field)
    if abs(value) >= Decimal(10) ** 12:
        problems.invalid(f"{label} is too large", *field)


def check_text(
    problems: Problems, value: str | None, *field: str, required: bool = False, max_length: int = 200
) -> None:
    if value is None:
        if required:
            problems.invalid("is required", *field)
        return
    if required and not value.strip():
        problems.invalid("must not be blank", *field)
    if len(value) > max_length:
        problems.invalid(f"must be at most {max_length} characters", *field)
