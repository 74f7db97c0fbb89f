"""Pricing for a target margin (domain.costing.target_margin)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.costing.target_margin import price_for_margin, simulate

D = Decimal


def test_price_for_margin() -> None:
    """10 / (1 − 0.25) = 13.333… -> 13.33; 7.25 / 0.75 = 9.666… -> 9.67; 0%: the cost itself, to cents."""
    assert price_for_margin(D("10"), D("25")) == D("13.33")
    assert price_for_margin(D("7.25"), D("25")) == D("9.67")
    assert price_for_margin(D("16.6210526316"), D("0")) == D("16.62")
    assert price_for_margin(D("1"), D("99.99")) == D("10000.00")
    for bad in (D("100"), D("-1"), D("150")):
        with pytest.raises(ValueError):
            price_for_margin(D("1"), bad)


def test_simulation_totals_and_the_margin_achieved_after_rounding() -> None:
    """Lines 3 × (cost 10) and 2 × (cost 7.25) at 25%:
    prices 13.33 and 9.67; totals 39.99 and 19.34; revenue 59.33;
    cost = 3 × 10 + 2 × 7.25 = 44.50; margin 14.83; 14.83 / 59.33 × 100 = 24.9958… -> 25.00."""
    result = simulate([(1, D("3"), D("10")), (2, D("2"), D("7.25"))], D("25"))
    assert [(line.unit_price, line.line_total) for line in result.lines] == [
        (D("13.33"), D("39.99")), (D("9.67"), D("19.34"))
    ]
    assert (result.revenue, result.cost, result.margin, result.margin_percent) == (
        D("59.33"), D("44.50"), D("14.83"), D("25.00")
    )


def test_a_line_that_costs_nothing_has_no_margin_percent() -> None:
    result = simulate([(1, D("5"), D("0"))], D("40"))
    assert (result.revenue, result.cost, result.margin, result.margin_percent) == (D("0.00"), D("0.00"),
                                                                                   D("0.00"), None)
