"""Money on documents: amounts in cents, rounded half up (as invoices and quotes show them).

Costs and stock values are kept unrounded (``domain.inventory.valuation``) and meet
this rounding only where a document or a report shows them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
