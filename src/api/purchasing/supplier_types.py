"""The Supplier node (kept apart from the purchase order types: Item refers to it)."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.crm.types import Contact
from api.dataloaders import RowOf
from api.errors import UserError
from api.integration.types import ExternalRef
from api.relay import Node
from domain.purchasing import models


@strawberry.type(description="A supplier: the party purchase orders (and subcontract orders) are placed with.")
class Supplier(Node):
    code: str
    name: str
    email: str | None
    phone: str | None
    payment_terms_days: int
    active: bool = strawberry.field(description="An inactive supplier takes no new or changed purchase orders.")
    version: int = strawberry.field(description="Raised by every change; send it back as expectedVersion.")

    @strawberry.field
    async def contacts(self, info: Info) -> list[Contact]:
        rows = await info.context.loaders.crm.contacts_by_supplier.load(self.pk)
        return [Contact.from_row(row) for row in rows]

    @strawberry.field
    async def external_refs(self, info: Info) -> list[ExternalRef]:
        rows = await info.context.loaders.integration.external_refs.load(("Supplier", self.pk))
        return [ExternalRef.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: RowOf[models.Supplier]) -> Supplier:
        return cls(
            pk=row.id, code=row.code, name=row.name, email=row.email, phone=row.phone,
            payment_terms_days=row.payment_terms_days, active=row.active, version=row.version,
        )


@strawberry.type
class SupplierPayload:
    supplier: Supplier | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
