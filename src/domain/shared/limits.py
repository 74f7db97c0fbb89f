"""Bounds on what one document may hold: every list the API serves has a known maximum."""

from __future__ import annotations

from collections.abc import Sized
from typing import Final

from domain.shared.errors import Problems

DEFAULT_MAX_LINES: Final = 500

_max_lines = DEFAULT_MAX_LINES


def max_lines() -> int:
    """Lines a document (quote, order, purchase order, BOM, opportunity, shipment) may have."""
    return _max_lines


def set_max_lines(limit: int) -> None:
    """Set by the composition root from ``ERPGRAPH_MAX_LINES`` (the API's cost analysis uses the same)."""
    global _max_lines
    if limit < 1:
        raise ValueError("the line limit must be at least 1")
    _max_lines = limit


def check_line_count(problems: Problems, lines: Sized | None, *field: str) -> None:
    """INVALID on ``field`` (``lines`` by default) when ``lines`` holds more than the limit."""
    if lines is not None and len(lines) > _max_lines:
        problems.invalid(
            f"at most {_max_lines} lines are allowed (ERPGRAPH_MAX_LINES), got {len(lines)}",
            *(field or ("lines",)),
        )
