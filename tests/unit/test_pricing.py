"""Price rounding on plain numbers: lines half-up to cents, totals are sums of lines."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from domain.sales.pricing import check_line, price_line, totals
from domain.shared.errors import Problems


def test_half_up_rounding() -> None:
    assert price_line(D("1"), D("0.005")).line_total == D("0.01")
    assert price_line(D("1"), D("0.0049")).line_total == D("0.00")
    assert price_line(D("3"), D("0.335")).line_total == D("1.01")  # 1.005 -> 1.01, not banker's 1.00
    assert price_line(D("1"), D("2.345")).line_total == D("2.35")


def test_discount_and_tax() -> None:
    line = price_line(D("3"), D("19.99"), D("10"), D("20"))
    # 59.97 * 0.9 = 53.973 -> 53.97; tax 10.794 -> 10.79
    assert (line.line_total, line.tax_amount) == (D("53.97"), D("10.79"))
    assert price_line(D("2"), D("50"), D("100")).line_total == D("0.00")
    assert price_line(D("0.333333"), D("3")).line_total == D("1.00")


def test_tax_is_rounded_per_line_not_on_the_total() -> None:
    lines = [price_line(D("1"), D("0.10"), tax_rate=D("5")) for _ in range(3)]
    # each line: tax 0.005 -> 0.01; on the total it would be 0.015 -> 0.02
    assert [line.tax_amount for line in lines] == [D("0.01")] * 3
    t = totals(lines)
    assert (t.subtotal, t.tax_total, t.total) == (D("0.30"), D("0.03"), D("0.33"))


def test_empty_totals() -> None:
    t = totals([])
    assert t.total == 0 and t.subtotal == 0 and t.tax_total == 0


def test_check_line_reports_every_field() -> None:
    problems = Problems()
    check_line(problems, D("0"), D("-1"), D("101"), D("100.00001"), "lines", "0")
    assert {p.field for p in problems.items} == {
        ("lines", "0", "quantity"), ("lines", "0", "unitPrice"),
        ("lines", "0", "discountPercent"), ("lines", "0", "taxRate"),
    }
    problems = Problems()
    check_line(problems, D("1.0000001"), D("1.00001"), None, None)
    assert [p.field for p in problems.items] == [("quantity",), ("unitPrice",)]
    problems = Problems()
    check_line(problems, D("0.000001"), D("0"), D("100"), D("0"))
    assert problems.items == []


quantities = st.decimals(min_value=D("0.000001"), max_value=D("100000"), places=6)
prices = st.decimals(min_value=D("0"), max_value=D("100000"), places=4)
percents = st.decimals(min_value=D("0"), max_value=D("100"), places=4)


@given(st.lists(st.tuples(quantities, prices, percents, percents), max_size=20))
def test_total_is_subtotal_plus_tax_and_lines_are_cents(raw: list[tuple[D, D, D, D]]) -> None:
    lines = [price_line(*values) for values in raw]
    for line in lines:
        assert line.line_total == line.line_total.quantize(D("0.01"))
        assert line.tax_amount == line.tax_amount.quantize(D("0.01"))
        exact = line.quantity * line.unit_price * (100 - line.discount_percent) / 100
        assert abs(line.line_total - exact) <= D("0.005")
    t = totals(lines)
    assert t.total == t.subtotal + t.tax_total
    assert t.subtotal == sum((line.line_total for line in lines), D(0))
    assert t.tax_total == sum((line.tax_amount for line in lines), D(0))
