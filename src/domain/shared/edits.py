"""The keys of an update: only the fields given change, and some may not be cleared."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from domain.shared.errors import Problems
from domain.shared.names import camel


def check_changes(
    problems: Problems, changes: Mapping[str, Any], updatable: Collection[str], *,
    nullable: Collection[str] = (),
) -> None:
    """Only ``updatable`` keys (another is the caller's bug: ValueError); a null (clear) only
    for ``nullable`` ones, else INVALID "must not be null" on the field's camelCase name."""
    unknown = set(changes) - set(updatable)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    for key, value in changes.items():
        if value is None and key not in nullable:
            problems.invalid("must not be null", camel(key))
