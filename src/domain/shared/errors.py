"""Expected failures of domain operations; the API turns them into ``UserError``s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    INVALID_STATE = "INVALID_STATE"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    CREDIT_LIMIT_EXCEEDED = "CREDIT_LIMIT_EXCEEDED"
    DUPLICATE = "DUPLICATE"
    # The database cancelled a statement that ran past the request's statement timeout.
    TIMEOUT = "TIMEOUT"


FieldPath = tuple[str, ...] | None


@dataclass(frozen=True)
class Problem:
    code: ErrorCode
    message: str
    field: FieldPath = None


@dataclass
class DomainError(Exception):
    """One or more expected problems; raising it rolls the unit of work back."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(p.message for p in self.problems)

    @classmethod
    def one(cls, code: ErrorCode, message: str, field: Sequence[str] | None = None) -> DomainError:
        return cls([Problem(code, message, tuple(field) if field is not None else None)])


def invalid(message: str, *field: str) -> DomainError:
    return DomainError.one(ErrorCode.INVALID, message, field or None)


def not_found(what: str, *field: str) -> DomainError:
    return DomainError.one(ErrorCode.NOT_FOUND, f"{what} not found", field or None)


class Problems:
    """Collects validation problems so one response reports all of them."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: ErrorCode, message: str, *field: str) -> None:
        self.items.append(Problem(code, message, field or None))

    def extend(self, problems: Sequence[Problem]) -> None:
        self.items.extend(problems)

    def invalid(self, message: str, *field: str) -> None:
        self.add(ErrorCode.INVALID, message, *field)

    def raise_if_any(self) -> None:
        if self.items:
            raise DomainError(list(self.items))
