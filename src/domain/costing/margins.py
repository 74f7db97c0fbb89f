"""What a sales order earned: revenue less the cost of what was shipped.

- Revenue is what was invoiced, before tax, net of credit notes; a shipped quantity
  not invoiced yet counts at the line's net price (after discount, before tax). A
  credit note credits an invoice's gross amount, so its net share is taken pro rata:
  ``credited × invoice net / invoice gross``.
- Cost is what the shipped units left the stock at: the ledger value of the line's
  SHIP movements (the moving average at the moment of shipment,
  ``domain.inventory.valuation``), never today's cost.

Amounts stay exact until the figures are shown, in cents; the margin percentage is of
revenue (0–100 for a profitable order, negative for a loss) and has no value when
there is no revenue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from domain.shared.money import cents

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class LineSales:
    """One order line as far as it was shipped and invoiced."""

    quantity: Decimal
    line_total: Decimal  # net of discount, before tax
    shipped: Decimal
    invoiced: Decimal
    invoiced_net: Decimal  # Σ of its invoice lines' net totals
    shipped_cost: Decimal  # − Σ of its SHIP movements' ledger values


@dataclass(frozen=True, slots=True)
class InvoiceCredit:
    """An invoice of the order with what was credited on it."""

    net: Decimal
    gross: Decimal
    credited: Decimal


@dataclass(frozen=True, slots=True)
class Figures:
    """Exact revenue and cost; add them up over orders, round with ``margin``."""

    revenue: Decimal = ZERO
    cost: Decimal = ZERO

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.revenue + other.revenue, self.cost + other.cost)


@dataclass(frozen=True, slots=True)
class Margin:
    revenue: Decimal
    cost: Decimal
    margin: Decimal
    margin_percent: Decimal | None


def order_figures(lines: Iterable[LineSales], credits: Iterable[InvoiceCredit]) -> Figures:
    revenue = ZERO
    cost = ZERO
    for line in lines:
        revenue += line.invoiced_net
        uninvoiced = line.shipped - line.invoiced
        if uninvoiced > 0 and line.quantity > 0:
            revenue += uninvoiced * line.line_total / line.quantity
        cost += line.shipped_cost
    for credit in credits:
        if credit.gross > 0:
            revenue -= credit.credited * credit.net / credit.gross
    return Figures(revenue, cost)


def margin(figures: Figures) -> Margin:
    revenue, cost = cents(figures.revenue), cents(figures.cost)
    earned = revenue - cost
    percent = None if revenue == 0 else cents(earned * HUNDRED / revenue)
    return Margin(revenue, cost, earned, percent)


def total(figures: Iterable[Figures]) -> Figures:
    return sum(figures, Figures())
