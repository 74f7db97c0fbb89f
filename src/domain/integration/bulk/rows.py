"""CSV cells to values, and the per-row error a bulk import reports.

Pure functions over plain data. A cell is text; an empty cell means the column's
default (None for a nullable column). Decimals use '.', dates are ISO (YYYY-MM-DD),
booleans are true/false (also 1/0, yes/no).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.shared.errors import Problem

TRUE = frozenset({"true", "1", "yes"})
FALSE = frozenset({"false", "0", "no"})
TAG_SEPARATOR = ";"


class CellError(ValueError):
    """A cell that cannot be read as its column's type (the message is the reason)."""


@dataclass(frozen=True)
class RowError:
    """One problem of one row: ``row`` as a spreadsheet numbers it (the header is row 1)."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True)
class Column:
    """A file column: its name, how a non-empty cell is read, the value of an empty one.

    ``field`` is the domain's (camelCase) name for it, so the domain's problems map back.
    """

    name: str
    parse: Callable[[str], Any]
    required: bool = False
    default: Any = None
    field: str | None = None


@dataclass
class Row:
    """A parsed row: its spreadsheet number and its values by column name (present columns only)."""

    number: int
    values: dict[str, Any]

    def key(self, column: str) -> Any:
        return self.values[column]


def text(cell: str) -> str:
    return cell.strip()


def decimal(cell: str) -> Decimal:
    try:
        value = Decimal(cell.strip())
    except InvalidOperation:
        raise CellError(f"{cell.strip()!r} is not a number (use '.' for decimals)") from None
    if not value.is_finite():
        raise CellError("must be a finite number")
    return value


def integer(cell: str) -> int:
    value = cell.strip()
    if not value.lstrip("-").isdigit():
        raise CellError(f"{value!r} is not a whole number")
    return int(value)


def boolean(cell: str) -> bool:
    value = cell.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise CellError(f"{cell.strip()!r} is not true or false")


def iso_date(cell: str) -> date:
    try:
        return date.fromisoformat(cell.strip())
    except ValueError:
        raise CellError(f"{cell.strip()!r} is not a date (YYYY-MM-DD)") from None


def tags(cell: str) -> list[str]:
    return [tag.strip() for tag in cell.split(TAG_SEPARATOR)]


def one_of(choices: Sequence[str]) -> Callable[[str], str]:
    def parse(cell: str) -> str:
        value = cell.strip().upper()
        if value not in choices:
            raise CellError(f"{cell.strip()!r} is not one of {', '.join(choices)}")
        return value
    return parse


def check_header(header: Sequence[str], columns: Sequence[Column]) -> str | None:
    """Why the header cannot be read (unknown, repeated or missing columns), or None."""
    known = {column.name for column in columns}
    names = [name.strip() for name in header]
    unknown = [name for name in names if name not in known]
    if unknown:
        return f"unknown column {unknown[0]!r}; the columns are {', '.join(c.name for c in columns)}"
    repeated = [name for i, name in enumerate(names) if name in names[:i]]
    if repeated:
        return f"column {repeated[0]!r} appears twice"
    missing = [c.name for c in columns if c.required and c.name not in names]
    if missing:
        return f"missing column {missing[0]!r}"
    return None


def parse_row(
    number: int, record: Mapping[str, str | None], columns: Sequence[Column]
) -> tuple[Row, list[RowError]]:
    """The row's values for the columns in ``record``, and what is wrong with its cells."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for column in columns:
        if column.name not in record:
            continue
        cell = record[column.name]
        if cell is None:  # a short line: csv gives None for the missing cells
            errors.append(RowError(number, column.name, "missing cell (the line has too few columns)"))
            continue
        if not cell.strip():
            if column.required:
                errors.append(RowError(number, column.name, "is required"))
            values[column.name] = column.default
            continue
        try:
            values[column.name] = column.parse(cell)
        except CellError as exc:
            errors.append(RowError(number, column.name, str(exc)))
    return Row(number, values), errors


def problem_errors(number: int, problems: Sequence[Problem], columns: Sequence[Column]) -> list[RowError]:
    """The domain's problems (camelCase field paths) as errors on the file's columns."""
    by_field = {column.field or column.name: column.name for column in columns}
    errors = []
    for problem in problems:
        head = problem.field[0] if problem.field else None
        column = by_field.get(head, head or "-") if head is not None else "-"
        errors.append(RowError(number, column, problem.message))
    return errors
