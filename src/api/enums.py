"""Domain enums served as GraphQL enums, from their one definition in the domain.

``strawberry.enum`` registers an existing enum (the domain stays strawberry-free, as
``ErrorCode`` in ``api.errors``) but cannot describe its values; ``expose`` adds
those descriptions, which are the API's wording, to the registered definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import has_enum_definition

E = TypeVar("E", bound=type[Enum])


def expose(enum: E, *, name: str, descriptions: Mapping[str, str] | None = None) -> E:
    """Register ``enum`` as the GraphQL enum ``name``; ``descriptions`` by member value.

    Call it once, in the API module that serves the enum, before the schema is built.
    """
    registered = strawberry.enum(enum, name=name)
    if not has_enum_definition(registered):  # strawberry.enum just set it
        raise TypeError(f"{name} is not a strawberry enum")
    given = dict(descriptions or {})
    for value in registered.__strawberry_definition__.values:
        value.description = given.pop(value.value, None)
    if given:
        raise ValueError(f"{name} has no value {', '.join(sorted(given))}")
    return enum
