from __future__ import annotations

from decimal import Decimal

import strawberry

from api.edits import expected_version_field, given
from domain.crm.contacts import NewContact
from domain.crm.services import NewCustomer


@strawberry.input
class ContactInput:
    name: str
    email: str | None = None
    phone: str | None = None
    title: str | None = None

    def to_domain(self) -> NewContact:
        return NewContact(name=self.name, email=self.email, phone=self.phone, title=self.title)


@strawberry.input
class CustomerInput:
    code: str
    name: str
    email: str | None = None
    phone: str | None = None
    segment: str | None = None
    tags: list[str] | None = None
    contacts: list[ContactInput] | None = None
    payment_terms_days: int | None = None
    credit_limit: Decimal | None = None

    def to_domain(self) -> NewCustomer:
        return NewCustomer(
            code=self.code, name=self.name, email=self.email, phone=self.phone,
            segment=self.segment, tags=self.tags,
            contacts=[c.to_domain() for c in self.contacts or []],
            payment_terms_days=self.payment_terms_days, credit_limit=self.credit_limit,
        )


@strawberry.input
class CustomerUpdateInput:
    """Only the fields given change; an explicit null clears an optional field."""

    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    segment: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    payment_terms_days: int | None = strawberry.UNSET
    credit_limit: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Needs finance:write (credit control is finance's)."
    )
    expected_version: int | None = expected_version_field()

    def changes(self) -> dict[str, object]:
        return given(self)


@strawberry.input
class ContactUpdateInput:
    """Only the fields given change; an explicit null clears email, phone or title."""

    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET

    def changes(self) -> dict[str, object]:
        return given(self)
