"""Contacts: the people at a customer or at a supplier (one owner each).

A contact belongs to exactly one party (the ``contacts`` table's CHECK). Adding,
changing or removing one raises its owner's version (``touch``): the contacts are
part of the record a client read, so an update made against the old version is a
CONFLICT. The owner's row is locked before the contact changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Contact, Customer
from domain.purchasing.models import Supplier
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.limits import check_line_count
from domain.shared.names import camel
from domain.shared.numbers import check_text
from domain.shared.parties import check_email
from domain.shared.versions import Versioned, lock_versioned, touch

UPDATABLE = ("name", "email", "phone", "title")


@dataclass
class NewContact:
    name: str
    email: str | None = None
    phone: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Owner:
    """Whose contact it is: ``kind`` is "customer" or "supplier"."""

    kind: str
    id: int

    @property
    def field(self) -> str:
        return f"{self.kind}Id"


def _check(problems: Problems, values: Mapping[str, Any], *prefix: str) -> None:
    if "name" in values:
        check_text(problems, values["name"], *prefix, "name", required=True)
    check_email(problems, values.get("email"), *prefix, "email")
    check_text(problems, values.get("phone"), *prefix, "phone", max_length=50)
    check_text(problems, values.get("title"), *prefix, "title", max_length=120)


def check_contacts(problems: Problems, contacts: Sequence[NewContact]) -> None:
    """The contacts of a new party, at ``contacts.i.<field>``."""
    check_line_count(problems, contacts, "contacts")
    for i, contact in enumerate(contacts):
        _check(problems, vars(contact), "contacts", str(i))


def new_contacts(
    contacts: Sequence[NewContact], *, customer_id: int | None = None, supplier_id: int | None = None
) -> list[Contact]:
    return [
        Contact(customer_id=customer_id, supplier_id=supplier_id, name=c.name.strip(), email=c.email,
                phone=c.phone, title=c.title)
        for c in contacts
    ]


def owner_of(contact: Contact) -> Owner:
    if contact.supplier_id is not None:
        return Owner("supplier", contact.supplier_id)
    assert contact.customer_id is not None  # the table's CHECK: exactly one owner
    return Owner("customer", contact.customer_id)


async def contact_owner(session: AsyncSession, contact_id: int) -> Owner:
    """The owner of a contact (to decide who may change it); NOT_FOUND on ``id``."""
    row = (await session.execute(
        select(Contact.customer_id, Contact.supplier_id).where(Contact.id == contact_id)
    )).first()
    if row is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "contact not found", ["id"])
    return Owner("supplier", row.supplier_id) if row.supplier_id is not None else Owner("customer", row.customer_id)


async def _lock_owner(session: AsyncSession, owner: Owner, field: str) -> Versioned:
    if owner.kind == "customer":
        return await lock_versioned(session, Customer, owner.id, None, owner.kind, field=field)
    return await lock_versioned(session, Supplier, owner.id, None, owner.kind, field=field)


def _payload(contact: Contact, owner: Owner, **extra: Any) -> dict[str, Any]:
    return {owner.field: owner.id, "name": contact.name} | extra


async def add_contact(
    session: AsyncSession, owner: Owner, data: NewContact, actor: str | None = None
) -> Contact:
    problems = Problems()
    _check(problems, vars(data))
    problems.raise_if_any()
    party = await _lock_owner(session, owner, owner.field)
    [contact] = new_contacts(
        [data], **{"customer_id" if owner.kind == "customer" else "supplier_id": owner.id}
    )
    session.add(contact)
    touch(party)
    await session.flush()
    await record_event(session, "contact.added", "Contact", contact.id, _payload(contact, owner), actor)
    return contact


async def _locked_contact(session: AsyncSession, contact_id: int) -> tuple[Contact, Owner]:
    contact = await session.get(Contact, contact_id, with_for_update=True, populate_existing=True)
    if contact is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "contact not found", ["id"])
    owner = owner_of(contact)
    touch(await _lock_owner(session, owner, "id"))
    return contact, owner


async def update_contact(
    session: AsyncSession, contact_id: int, changes: Mapping[str, Any], actor: str | None = None
) -> Contact:
    """Apply ``changes`` (only the keys given; None clears a field other than the name)."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    problems = Problems()
    if "name" in changes and changes["name"] is None:
        problems.invalid("must not be null", "name")
    _check(problems, {k: v for k, v in changes.items() if v is not None})
    problems.raise_if_any()
    contact, owner = await _locked_contact(session, contact_id)
    for key, value in changes.items():
        setattr(contact, key, value.strip() if key == "name" else value)
    await session.flush()
    await record_event(
        session, "contact.updated", "Contact", contact.id,
        _payload(contact, owner, fields=sorted(camel(k) for k in changes)), actor,
    )
    return contact


async def remove_contact(session: AsyncSession, contact_id: int, actor: str | None = None) -> Contact:
    """Delete the contact; the returned row keeps what it held."""
    contact, owner = await _locked_contact(session, contact_id)
    await session.delete(contact)
    await session.flush()
    await record_event(session, "contact.removed", "Contact", contact.id, _payload(contact, owner), actor)
    return contact
