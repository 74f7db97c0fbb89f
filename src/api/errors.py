"""Expected failures, reported one way: a domain error carries a code and a field path.

A mutation returns them in its payload as ``UserError``s (``api.permissions.command``);
a query or subscription resolver simply raises the ``DomainError`` and ``DomainErrors``
turns it into GraphQL errors with ``extensions: {code, field}``.
"""

from __future__ import annotations

from collections.abc import Iterator

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from domain.shared.db import STATEMENT_TIMEOUT_MESSAGE, is_statement_timeout
from domain.shared.errors import DomainError, Problem
from domain.shared.errors import ErrorCode as DomainErrorCode

# The domain's enum, registered as the schema's ErrorCode (the domain stays strawberry-free).
ErrorCode = DomainErrorCode
strawberry.enum(ErrorCode, name="ErrorCode")


@strawberry.type
class UserError:
    code: ErrorCode
    field: list[str] | None = strawberry.field(
        description=(
            'Path to the offending input field, e.g. ["lines", "0", "quantity"]; '
            "null when not tied to one field."
        )
    )
    message: str

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        return cls(
            code=problem.code,
            field=list(problem.field) if problem.field is not None else None,
            message=problem.message,
        )


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError.from_problem(p) for p in error.problems]


def graphql_errors(error: GraphQLError) -> list[GraphQLError]:
    """One GraphQL error per problem of the DomainError behind ``error`` (else ``error`` alone).

    The message leads with the field path (``"after: is not a valid cursor"``);
    ``extensions`` hold the code and the path (``[]`` when not tied to one field).
    """
    domain = error.original_error
    if not isinstance(domain, DomainError) or not domain.problems or "code" in (error.extensions or {}):
        return [error]
    return [
        GraphQLError(
            f"{'.'.join(p.field)}: {p.message}" if p.field else p.message,
            error.nodes, error.source, error.positions, error.path, domain,
            {"code": p.code.value, "field": list(p.field or ())},
        )
        for p in domain.problems
    ]


def timed_out(error: GraphQLError) -> bool:
    """Whether a resolver failed because its statement ran past the statement timeout."""
    return error.original_error is not None and is_statement_timeout(error.original_error)


def _timeout(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        error.message, error.nodes, error.source, error.positions, error.path,
        DomainError.one(DomainErrorCode.TIMEOUT, STATEMENT_TIMEOUT_MESSAGE),
    )


class DomainErrors(SchemaExtension):
    """Maps a DomainError raised by any query or subscription resolver (see ``graphql_errors``)."""

    @staticmethod
    def _map(result: object) -> None:
        if not isinstance(result, (GraphQLExecutionResult, ExecutionResult)) or not result.errors:
            return
        if any(timed_out(error) for error in result.errors):
            result.errors = [_timeout(error) if timed_out(error) else error for error in result.errors]
        if any(isinstance(error.original_error, DomainError) for error in result.errors):
            result.errors = [mapped for error in result.errors for mapped in graphql_errors(error)]

    def on_operation(self) -> Iterator[None]:
        yield
        self._map(self.execution_context.result)

    def on_stream_result(self, result: object) -> Iterator[None]:
        self._map(result)
        yield
