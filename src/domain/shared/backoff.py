"""Capped exponential backoff, shared by everything that retries on the workers."""

from __future__ import annotations

import random


def backoff_s(attempts_made: int, base_s: float, cap_s: float) -> float:
    """The wait before the next attempt: ``base_s`` after the first, doubling, at most ``cap_s``."""
    return float(min(cap_s, base_s * 2.0 ** min(max(attempts_made, 1) - 1, 62)))


def jittered(delay_s: float) -> float:
    """``delay_s`` with its upper half random, so that what failed together does not come back together."""
    return delay_s / 2 + random.uniform(0, delay_s / 2)
