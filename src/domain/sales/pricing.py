"""Line and document prices: the one rule set for quotes and orders (pure, no database).

A line's total is quantity × unit price × (1 − discount/100) rounded half-up to cents;
its tax is that rounded total × rate/100, rounded again. Document totals are sums of
the rounded lines, so a document always equals the sum of what its lines show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from domain.shared.errors import Problems
from domain.shared.money import cents
from domain.shared.numbers import check_decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PricedLine:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    line_total: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal



def price_line(
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal = ZERO,
    tax_rate: Decimal = ZERO,
) -> PricedLine:
    line_total = cents(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED)
    return PricedLine(
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount_percent,
        tax_rate=tax_rate,
        line_total=line_total,
        tax_amount=cents(line_total * tax_rate / HUNDRED),
    )


def totals(lines: Iterable[PricedLine]) -> Totals:
    subtotal = tax_total = ZERO
    for line in lines:
        subtotal += line.line_total
        tax_total += line.tax_amount
    subtotal, tax_total = cents(subtotal), cents(tax_total)
    return Totals(subtotal=subtotal, tax_total=tax_total, total=subtotal + tax_total)


def check_line(
    problems: Problems,
    quantity: Decimal,
    unit_price: Decimal | None,
    discount_percent: Decimal | None,
    tax_rate: Decimal | None,
    *path: str,
) -> None:
    """Quantity > 0 (6 places), price >= 0 (4 places), discount and tax rate 0-100."""
    check_decimal(problems, quantity, *path, "quantity", places=6, positive=True, label="quantity")
    check_decimal(problems, unit_price, *path, "unitPrice", places=4, non_negative=True,
                  label="unitPrice")
    check_decimal(problems, discount_percent, *path, "discountPercent", places=4,
                  non_negative=True, maximum=HUNDRED, label="discountPercent")
    check_decimal(problems, tax_rate, *path, "taxRate", places=4, non_negative=True,
                  maximum=HUNDRED, label="taxRate")
