"""Allocating an overhead pool over work orders in proportion to their weights.

A share is ``pool × weight / Σ weights``, kept as an exact fraction; only the final
shares are rounded to cents. Each share is first rounded to the nearest cent (half
to even); the residue (pool − Σ rounded, a whole number of cents) then goes to the
largest share (ties: the lowest key), so the shares add up to the pool to the cent.

The residue is given a cent at a time, largest share first, to the shares that can
take it while staying within a cent of their exact share and not below zero: the
usual one-cent residue lands on the largest share, unless that share was rounded
that way already (then on the next largest). Giving a residue of several cents (many
small shares all rounded the same way) to the largest share alone could push it far
from its weight, even below zero (five equal weights sharing 0.03: each rounds to
0.01, the residue is -0.02). Every share can move between its exact value rounded
down and rounded up in cents, and the pool lies between the sums of those, so one
pass places the whole residue.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from domain.shared.money import CENT


def exact_shares(pool: Decimal, weights: Mapping[int, Decimal]) -> dict[int, Fraction]:
    """Each key's exact share of ``pool`` (no rounding at all)."""
    total = sum((Fraction(w) for w in weights.values()), Fraction(0))
    if total <= 0:
        raise ValueError("the weights add up to zero: nothing to allocate by")
    if any(w < 0 for w in weights.values()):
        raise ValueError("a weight is negative")
    return {key: Fraction(pool) * Fraction(w) / total for key, w in weights.items()}


def allocate(pool: Decimal, weights: Mapping[int, Decimal]) -> dict[int, Decimal]:
    """``pool`` (≥ 0, whole cents) split over ``weights`` (≥ 0, not all zero), in cents.

    The result has the same keys; its values add up to ``pool`` exactly, none is
    negative, and each is within a cent of its exact share.
    """
    if pool < 0 or pool != pool.quantize(CENT):
        raise ValueError("the pool must be a non-negative amount in whole cents")
    exact = exact_shares(pool, weights)
    cents = {key: round(share * 100) for key, share in exact.items()}  # round() of a Fraction: half to even
    residue = int(pool * 100) - sum(cents.values())
    # largest exact share first, ties by the lowest key
    order = sorted(exact, key=lambda key: (-exact[key], key))
    step = 1 if residue > 0 else -1
    for key in order:
        if residue == 0:
            break
        moved = cents[key] + step
        # within a cent of the exact share: its floor or ceiling in cents (never below zero)
        if math.floor(exact[key] * 100) <= moved <= math.ceil(exact[key] * 100) and moved >= 0:
            cents[key] = moved
            residue -= step
    # each share sits at its floor or ceiling, and the pool lies between their sums
    assert residue == 0, "residue left after one pass"
    return {key: Decimal(c).scaleb(-2) for key, c in cents.items()}
