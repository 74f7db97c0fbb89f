"""Skip re-validating documents that already passed validation.

Clients send the same few operation texts over and over; graphql-core's validation
was a fifth of an order confirmation's CPU time. Only successes are remembered,
keyed by the exact query text, per schema (introspection rules differ between
environments). Checks that depend on variables (page sizes, cost) still run on
every request, after validation.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import partial

from strawberry.extensions import ParserCache, SchemaExtension

DEFAULT_SIZE = 512


class ValidDocuments:
    """A bounded LRU set of query texts that validated without errors."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._texts: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, query: str) -> bool:
        if query in self._texts:
            self._texts.move_to_end(query)
            return True
        return False

    def add(self, query: str) -> None:
        self._texts[query] = None
        self._texts.move_to_end(query)
        while len(self._texts) > self.size:
            self._texts.popitem(last=False)


class _CachedValidation(SchemaExtension):
    def __init__(self, *, valid: ValidDocuments) -> None:
        self.valid = valid

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        known = query is not None and context.pre_execution_errors is None and query in self.valid
        if known:
            context.pre_execution_errors = []  # strawberry then skips validation
        yield
        if not known and query is not None and context.pre_execution_errors == []:
            self.valid.add(query)


def document_cache_extensions(size: int = DEFAULT_SIZE) -> list[Callable[[], SchemaExtension]]:
    """Parse once and validate once per distinct query text (first in the extension list)."""
    return [partial(ParserCache, maxsize=size), partial(_CachedValidation, valid=ValidDocuments(size))]
