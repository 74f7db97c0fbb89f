"""Order margins (domain.costing.margins) by hand."""

from __future__ import annotations

from decimal import Decimal

from domain.costing.margins import Figures, InvoiceCredit, LineSales, margin, order_figures, total

D = Decimal


def test_partial_shipment_invoice_and_credit_note() -> None:
    """A line of 10 at 20.00 less 10 % (net 180.00, 18.00 a unit), 20 % tax.
    6 shipped at 5.00 and invoiced: 108.00 net, 129.60 gross; 2 more shipped at 6.25, not
    invoiced: 2 × 18.00 = 36.00. A credit note of 12.96 (gross) is 12.96 × 108 / 129.60 =
    10.80 net. Revenue 108 + 36 − 10.80 = 133.20; cost 30.00 + 12.50 = 42.50;
    margin 90.70 = 68.09 % of revenue (90.70 / 133.20 = 0.680930…)."""
    figures = order_figures(
        [LineSales(D(10), D("180.00"), D(8), D(6), D("108.00"), D("42.50"))],
        [InvoiceCredit(D("108.00"), D("129.60"), D("12.96"))],
    )
    assert figures == Figures(D("133.20"), D("42.50"))
    shown = margin(figures)
    assert (shown.revenue, shown.cost, shown.margin, shown.margin_percent) == (
        D("133.20"), D("42.50"), D("90.70"), D("68.09"))


def test_exact_until_shown_and_no_percent_without_revenue() -> None:
    """Three orders each shipping 1 of 3 for 10.00 (3.333… each, not invoiced) at cost 1:
    revenue 10.00 exactly once added, not 3 × 3.33 = 9.99. Nothing shipped: no percent."""
    one = order_figures([LineSales(D(3), D("10.00"), D(1), D(0), D(0), D(1))], [])
    shown = margin(total([one, one, one]))
    assert (shown.revenue, shown.cost, shown.margin, shown.margin_percent) == (
        D("10.00"), D("3.00"), D("7.00"), D("70.00"))
    assert margin(Figures()).margin_percent is None


def test_a_loss_is_a_negative_percentage() -> None:
    shown = margin(Figures(D(100), D(125)))
    assert (shown.margin, shown.margin_percent) == (D(-25), D(-25))
