"""Rules shared by the parties we deal with (customers, suppliers, their contacts)."""

from __future__ import annotations

import re

from domain.shared.errors import Problems

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CODE_LENGTH = 40
MAX_TERMS_DAYS = 365


def check_code(problems: Problems, code: str, *path: str) -> None:
    """A party's code (already stripped): 1-40 letters, digits, '.', '_' or '-'."""
    if not CODE.match(code) or len(code) > CODE_LENGTH:
        problems.invalid("code must be 1-40 letters, digits, '.', '_' or '-'", *path)


def check_email(problems: Problems, value: str | None, *path: str) -> None:
    if value is not None and not EMAIL.match(value):
        problems.invalid("is not a valid e-mail address", *path)


def check_terms(problems: Problems, days: int | None, *path: str) -> None:
    if days is not None and not 0 <= days <= MAX_TERMS_DAYS:
        problems.invalid(f"must be between 0 and {MAX_TERMS_DAYS}", *path)
