from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.crm.inputs import ContactInput
from api.edits import expected_version_field, given
from api.relay import decode_id
from domain.purchasing.changes import LineChange
from domain.purchasing.services import NewPurchaseLine, NewPurchaseOrder, ReceiptLine
from domain.purchasing.suppliers import NewSupplier


@strawberry.input
class PurchaseOrderLineInput:
    item_id: strawberry.ID
    quantity: Decimal
    unit_cost: Decimal | None = None
    due_date: date

    def to_domain(self, index: int) -> NewPurchaseLine:
        return NewPurchaseLine(
            item_id=decode_id(self.item_id, "Item", "lines", str(index), "itemId"),
            quantity=self.quantity,
            unit_cost=self.unit_cost,
            due_date=self.due_date,
        )


@strawberry.input
class PurchaseOrderInput:
    supplier_id: strawberry.ID
    subcontract: bool | None = None
    lines: list[PurchaseOrderLineInput]

    def to_domain(self) -> NewPurchaseOrder:
        return NewPurchaseOrder(
            supplier_id=decode_id(self.supplier_id, "Supplier", "supplierId"),
            subcontract=bool(self.subcontract),
            lines=[line.to_domain(i) for i, line in enumerate(self.lines)],
        )


@strawberry.input(description="A line as it should be: `id` names an existing line (omitted: a new line).")
class PurchaseOrderLineUpdateInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="An existing line (PurchaseOrderLine.id); its omitted fields keep their values."
    )
    item_id: strawberry.ID | None = strawberry.UNSET
    quantity: Decimal | None = strawberry.UNSET
    unit_cost: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="null clears it (a line with receipts keeps its cost)."
    )
    due_date: date | None = strawberry.UNSET

    def to_domain(self, index: int) -> LineChange:
        path = ("lines", str(index))
        given = frozenset(
            key for key in ("item_id", "quantity", "unit_cost", "due_date")
            if getattr(self, key) is not strawberry.UNSET
        )

        def value(key: str) -> object:
            found = getattr(self, key)
            return None if found is strawberry.UNSET else found

        item = value("item_id")
        return LineChange(
            id=None if self.id is None else decode_id(self.id, "PurchaseOrderLine", *path, "id"),
            item_id=None if item is None else decode_id(str(item), "Item", *path, "itemId"),
            quantity=value("quantity"),  # type: ignore[arg-type]
            unit_cost=value("unit_cost"),  # type: ignore[arg-type]
            due_date=value("due_date"),  # type: ignore[arg-type]
            given=given,
        )


@strawberry.input(description="Only the fields given change; the lines given replace the order's lines.")
class PurchaseOrderUpdateInput:
    supplier_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only while nothing of the order was received."
    )
    lines: list[PurchaseOrderLineUpdateInput] | None = strawberry.field(
        default=None,
        description=(
            "The order's lines as they should be. Existing lines left out are removed (not those with "
            "receipts, nor those firmed from a planned order); a line with receipts keeps its item and "
            "unit cost and is not reduced below what was received."
        ),
    )


@strawberry.input
class ReceiptLineInput:
    item_id: strawberry.ID
    quantity: Decimal

    def to_domain(self, index: int) -> ReceiptLine:
        return ReceiptLine(
            item_id=decode_id(self.item_id, "Item", "lines", str(index), "itemId"),
            quantity=self.quantity,
        )


@strawberry.input
class SupplierInput:
    code: str
    name: str
    email: str | None = None
    phone: str | None = None
    payment_terms_days: int | None = None
    contacts: list[ContactInput] | None = None

    def to_domain(self) -> NewSupplier:
        return NewSupplier(
            code=self.code, name=self.name, email=self.email, phone=self.phone,
            payment_terms_days=self.payment_terms_days,
            contacts=[c.to_domain() for c in self.contacts or []],
        )


@strawberry.input
class SupplierUpdateInput:
    """Only the fields given change; an explicit null clears email or phone."""

    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    payment_terms_days: int | None = strawberry.UNSET
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="false: no new or changed purchase orders with this supplier."
    )
    expected_version: int | None = expected_version_field()

    def changes(self) -> dict[str, object]:
        return given(self)
