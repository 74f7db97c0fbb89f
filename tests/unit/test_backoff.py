from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.integration.erp.sync import Policy
from domain.shared.backoff import backoff_s, jittered


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    assert [backoff_s(n, 2.0, 60.0) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert backoff_s(10_000, 2.0, 60.0) == 60  # no overflow however many attempts


@given(st.integers(min_value=1, max_value=200))
def test_the_writeback_waits_between_half_and_all_of_the_backoff(attempts: int) -> None:
    policy = Policy(backoff_s=2.0, backoff_max_s=600.0)
    full = backoff_s(attempts, 2.0, 600.0)
    assert full / 2 <= policy.backoff(attempts) <= full
    assert full / 2 <= jittered(full) <= full
