"""``UserError`` in payloads: expected failures, typed and tied to an input field."""

from __future__ import annotations

import strawberry

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
