"""Contacts of customers (crm:write) and of suppliers (purchasing:write)."""

from __future__ import annotations

import strawberry

from api.crm.inputs import ContactInput, ContactUpdateInput
from api.crm.types import Contact
from api.errors import UserError
from api.permissions import Command, command
from api.relay import decode_id
from domain.crm import contacts
from domain.identity.scopes import Scope
from domain.shared.errors import invalid

WRITE_SCOPE = {"customer": Scope.CRM_WRITE, "supplier": Scope.PURCHASING_WRITE}


@strawberry.type
class ContactPayload:
    contact: Contact | None = strawberry.field(
        default=None, description="removeContact: the removed contact as it was (its id no longer resolves)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


def _require_owner_scope(cmd: Command, owner: contacts.Owner, *field: str) -> None:
    cmd.require(WRITE_SCOPE[owner.kind], *field)


@strawberry.type
class ContactMutation:
    @strawberry.mutation(description=(
        "Adds a contact to a customer (needs crm:write) or to a supplier (needs purchasing:write): "
        "exactly one of customerId and supplierId. Raises the owner's version."
    ))
    @command(Scope.CRM_WRITE, Scope.PURCHASING_WRITE)
    async def add_contact(
        self, cmd: Command, customer_id: strawberry.ID | None = None, supplier_id: strawberry.ID | None = None,
        *, input: ContactInput,
    ) -> ContactPayload:
        if (customer_id is None) == (supplier_id is None):
            raise invalid("give exactly one of customerId and supplierId", "customerId")
        if customer_id is not None:
            owner = contacts.Owner("customer", decode_id(customer_id, "Customer", "customerId"))
        else:
            assert supplier_id is not None
            owner = contacts.Owner("supplier", decode_id(supplier_id, "Supplier", "supplierId"))
        _require_owner_scope(cmd, owner, owner.field)
        row = await contacts.add_contact(cmd.session, owner, input.to_domain(), actor=cmd.actor)
        return ContactPayload(contact=Contact.from_row(row))

    @strawberry.mutation(description=(
        "Changes the fields given (crm:write for a customer's contact, purchasing:write for a "
        "supplier's). Raises the owner's version."
    ))
    @command(Scope.CRM_WRITE, Scope.PURCHASING_WRITE)
    async def update_contact(self, cmd: Command, id: strawberry.ID, input: ContactUpdateInput) -> ContactPayload:
        pk = decode_id(id, "Contact", "id")
        _require_owner_scope(cmd, await contacts.contact_owner(cmd.session, pk), "id")
        row = await contacts.update_contact(cmd.session, pk, input.changes(), actor=cmd.actor)
        return ContactPayload(contact=Contact.from_row(row))

    @strawberry.mutation(description=(
        "Removes a contact (scopes as updateContact) and returns it as it was. Raises the owner's version."
    ))
    @command(Scope.CRM_WRITE, Scope.PURCHASING_WRITE)
    async def remove_contact(self, cmd: Command, id: strawberry.ID) -> ContactPayload:
        pk = decode_id(id, "Contact", "id")
        _require_owner_scope(cmd, await contacts.contact_owner(cmd.session, pk), "id")
        row = await contacts.remove_contact(cmd.session, pk, actor=cmd.actor)
        return ContactPayload(contact=Contact.from_row(row))
