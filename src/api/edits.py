"""Update inputs: only the fields given change, checked against the version the client read."""

from __future__ import annotations

import strawberry

EXPECTED_VERSION_DESCRIPTION = "The version you read: a stale one is refused with CONFLICT."


def expected_version_field(description: str = EXPECTED_VERSION_DESCRIPTION) -> int | None:
    """The ``expectedVersion`` field of an update input (optional: none, no check)."""
    return strawberry.field(default=None, description=description)  # type: ignore[no-any-return]


def given(edit: object) -> dict[str, object]:
    """The fields of an update input the client gave (an explicit null included), by
    snake_case name; not its ``expected_version``."""
    return {
        key: value for key, value in vars(edit).items()
        if value is not strawberry.UNSET and key != "expected_version"
    }
