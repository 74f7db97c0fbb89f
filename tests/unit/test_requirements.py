"""A work order's component requirements and backflush: pure arithmetic, no database."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.production.requirements import backflush, component_requirement, round_up

D = Decimal
NONE = Decimal(0)


@dataclass
class Component:
    required_quantity: Decimal
    issued_quantity: Decimal = NONE


def test_requirement_scales_the_bom_line_with_scrap_and_rounds_up() -> None:
    assert component_requirement(D(10), D(2), D("0.05"), D(1)) == D("21.000000")
    assert component_requirement(D(1), D(1), D(0), D(3)) == D("0.333334")  # never short by rounding
    assert round_up(D("0.0000001")) == D("0.000001")


def test_backflush_consumes_in_proportion_and_the_last_report_takes_the_rest() -> None:
    a, b = Component(D(10)), Component(D("3.3"), issued_quantity=D(3))
    assert backflush(D(10), D(0), [a, b], D(4)) == [(a, D("4.000000")), (b, D("0.3"))]
    assert backflush(D(10), D(6), [a, b], D(4)) == [(a, D(10)), (b, D("0.3"))]


@given(
    st.decimals(min_value=D("0.000001"), max_value=D(1000), places=6),
    st.decimals(min_value=D(0), max_value=D(1000), places=6),
    st.decimals(min_value=D(0), max_value=D(1), places=3),
)
def test_backflush_never_issues_more_than_is_left(required: Decimal, issued: Decimal, share: Decimal) -> None:
    component = Component(required, min(issued, required))
    order, reported = D(100), (D(100) * share).quantize(D("0.000001"))
    for _, quantity in backflush(order, D(0), [component], max(reported, D("0.000001"))):
        assert D(0) <= quantity <= component.required_quantity - component.issued_quantity
