from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.edits import expected_version_field, given
from api.relay import decode_id
from domain.sales.orders import NewLine, NewOrder
from domain.sales.quotes import NewQuote


@strawberry.input
class OrderLineInput:
    item_id: strawberry.ID
    quantity: Decimal
    unit_price: Decimal | None = strawberry.field(
        default=None, description="Defaults to the item's list price."
    )
    discount_percent: Decimal | None = None
    tax_rate: Decimal | None = None

    def to_domain(self, index: int) -> NewLine:
        return NewLine(
            item_id=decode_id(self.item_id, "Item", "lines", str(index), "itemId"),
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount_percent=self.discount_percent,
            tax_rate=self.tax_rate,
        )


def _lines(lines: list[OrderLineInput]) -> list[NewLine]:
    return [line.to_domain(i) for i, line in enumerate(lines)]


@strawberry.input
class QuoteInput:
    customer_id: strawberry.ID
    opportunity_id: strawberry.ID | None = None
    valid_until: date | None = strawberry.field(
        default=None, description="Any date, a past one too (a quote entered after the fact reads EXPIRED)."
    )
    notes: str | None = None
    lines: list[OrderLineInput]

    def to_domain(self) -> NewQuote:
        return NewQuote(
            customer_id=decode_id(self.customer_id, "Customer", "customerId"),
            opportunity_id=(
                decode_id(self.opportunity_id, "Opportunity", "opportunityId")
                if self.opportunity_id is not None else None
            ),
            valid_until=self.valid_until,
            notes=self.notes,
            lines=_lines(self.lines),
        )


@strawberry.input
class SalesOrderInput:
    customer_id: strawberry.ID
    requested_date: date | None = None
    currency: str | None = None
    notes: str | None = None
    lines: list[OrderLineInput]

    def to_domain(self) -> NewOrder:
        return NewOrder(
            customer_id=decode_id(self.customer_id, "Customer", "customerId"),
            requested_date=self.requested_date,
            currency=self.currency,
            notes=self.notes,
            lines=_lines(self.lines),
        )


def _changes(edit: object) -> dict[str, object]:
    """The fields given (UNSET ones left out), lines decoded; not the expected version."""
    changes = given(edit)
    lines = changes.get("lines")
    if isinstance(lines, list):
        changes["lines"] = _lines(lines)
    return changes


@strawberry.input(description="Only the fields given change; an explicit null clears validUntil or notes.")
class QuoteUpdateInput:
    lines: list[OrderLineInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces every line, priced as in createQuote."
    )
    valid_until: date | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    expected_version: int | None = expected_version_field()

    def changes(self) -> dict[str, object]:
        return _changes(self)


@strawberry.input(description="Only the fields given change; an explicit null clears requestedDate or notes.")
class SalesOrderUpdateInput:
    lines: list[OrderLineInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces every line, priced as in createSalesOrder (list price unless unitPrice is given).",
    )
    requested_date: date | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    expected_version: int | None = expected_version_field()

    def changes(self) -> dict[str, object]:
        return _changes(self)
