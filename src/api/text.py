"""Text no column can store: a NUL character or a lone surrogate, refused in every String input.

PostgreSQL rejects NUL in text and asyncpg cannot encode a lone surrogate (``"\\ud800"``
decodes from JSON but is not Unicode text), so either would end in a database error.
One check for every input: a mutation's arguments as the resolver receives them
(``api.permissions.command``: a ``UserError`` INVALID at the field), and the variables
and string literals of queries and subscriptions (``TextGuard``: a GraphQL error with
``extensions.code`` INVALID).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import ExecutionResult, GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension
from strawberry.types.base import has_object_definition
from strawberry.types.graphql import OperationType

from domain.shared.errors import DomainError, ErrorCode, Problem
from domain.shared.names import camel

Path = tuple[str, ...]


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if "\x00" in value:
        return "must not contain a NUL character (\\u0000)"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must not contain a lone surrogate: it is not valid Unicode text"
    return None


def first_bad_text(value: Any, path: Path = ()) -> tuple[Path, str] | None:
    """The path to the first string in ``value`` that cannot be stored, and why.

    ``value`` is JSON (variables) or what strawberry passes a resolver (input objects,
    lists); a stack, not recursion: variables come straight from the client.
    """
    stack: list[tuple[Any, Path]] = [(value, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            problem = text_problem(current)
            if problem is not None:
                return where, problem
        elif isinstance(current, Mapping):
            for key, item in reversed(list(current.items())):
                if isinstance(key, str) and (problem := text_problem(key)) is not None:
                    return (*where, "(key)"), problem
                stack.append((item, (*where, str(key))))
        elif isinstance(current, (list, tuple)):
            stack.extend((item, (*where, str(index))) for index, item in reversed(list(enumerate(current))))
        elif has_object_definition(current):
            fields = current.__strawberry_definition__.fields
            stack.extend(
                (getattr(current, field.python_name, None), (*where, field.graphql_name or camel(field.python_name)))
                for field in reversed(fields)
            )
    return None


def argument_text_error(arguments: Mapping[str, Any]) -> DomainError | None:
    """A mutation's arguments: paths are relative to its ``input`` object, else the argument's name."""
    for name, value in arguments.items():
        found = first_bad_text(value, () if name == "input" else (camel(name),))
        if found is not None:
            where, problem = found
            return DomainError([Problem(ErrorCode.INVALID, problem, where)])
    return None


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: tuple[StringValueNode, str] | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        problem = text_problem(node.value)
        if problem is not None:
            self.found = (node, problem)
            return self.BREAK
        return None


class TextGuard(SchemaExtension):
    """Refuses, before execution, a query or subscription carrying text no column can store.

    Mutations are left to ``command``, which answers with a ``UserError`` in the payload.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and context.operation_type is not OperationType.MUTATION:
            error = self._error()
            if error is not None:
                if context.operation_type is OperationType.SUBSCRIPTION:
                    raise error  # strawberry subscribes without looking at a preset result
                context.result = ExecutionResult(data=None, errors=[error])
        yield

    def _error(self) -> GraphQLError | None:
        context = self.execution_context
        found = first_bad_text(context.variables or {})
        if found is not None:
            where, problem = found
            field = ".".join(where)
            return GraphQLError(
                f"Variable '${field}' {problem}.",
                extensions={"code": ErrorCode.INVALID.value, "field": list(where)},
            )
        document = context.graphql_document
        if document is None:
            return None
        literals = _Literals()
        for definition in document.definitions:
            visit(definition, literals)
            if literals.found is not None:
                node, problem = literals.found
                return GraphQLError(
                    f"A string literal {problem}.", [node],
                    extensions={"code": ErrorCode.INVALID.value, "field": []},
                )
        return None
