"""check_changes: the shared rule of every update's keys."""

from __future__ import annotations

import pytest

from domain.shared.edits import check_changes
from domain.shared.errors import ErrorCode, Problems


def test_nulls_are_refused_unless_the_field_may_be_cleared() -> None:
    problems = Problems()
    check_changes(problems, {"name": None, "email": None, "payment_terms_days": None},
                  ("name", "email", "payment_terms_days"), nullable=("email",))
    assert [(p.code, p.message, p.field) for p in problems.items] == [
        (ErrorCode.INVALID, "must not be null", ("name",)),
        (ErrorCode.INVALID, "must not be null", ("paymentTermsDays",)),
    ]


def test_values_pass_and_an_unknown_key_is_the_callers_bug() -> None:
    problems = Problems()
    check_changes(problems, {"name": "x"}, ("name",))
    assert problems.items == []
    with pytest.raises(ValueError, match="not updatable: \\['sku'\\]"):
        check_changes(problems, {"sku": "X"}, ("name",))
