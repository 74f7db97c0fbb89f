"""A customer kept by an outside system: created or updated by its key in that system.

``upsert_customer`` is how a partner (or any integration) pushes its customer records:
one customer per (system, external id), whatever arrives twice or at once. The key is
the ``external_refs`` row (unique on system, entity type and external id); concurrent
upserts of one key queue on a transaction-level advisory lock of that key, so the
second finds what the first created instead of failing on the unique index.

- Unknown key: a new customer (as ``createCustomer``) linked to the key, SYNCED (the
  record came from that system, there is nothing to write back).
- Known key: the customer's fields take the values given (a field left null keeps its
  value; contacts are edited with ``addContact``/``updateContact``); a code other than
  the customer's is refused, since codes never change. Sending the same values again
  changes nothing and records nothing.
- A code taken by a customer without this key is DUPLICATE: a record is never adopted
  by its code, which could hand another system's (or an internal) customer to a partner.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Customer
from domain.crm.services import NewCustomer, create_customer, update_customer
from domain.integration.models import ExternalRef
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.numbers import check_text

CUSTOMER = "Customer"
# the columns of external_refs
SYSTEM_LENGTH = 40
EXTERNAL_ID_LENGTH = 120
FIELDS = ("name", "email", "phone", "segment", "tags", "payment_terms_days", "credit_limit")


def check_key(system: str, external_id: str) -> tuple[str, str]:
    """The key, trimmed; INVALID on ``system`` / ``externalId`` when blank or too long."""
    problems = Problems()
    check_text(problems, system, "system", required=True, max_length=SYSTEM_LENGTH)
    check_text(problems, external_id, "externalId", required=True, max_length=EXTERNAL_ID_LENGTH)
    problems.raise_if_any()
    return system.strip(), external_id.strip()


async def upsert_customer(
    session: AsyncSession, system: str, external_id: str, data: NewCustomer, actor: str | None = None
) -> tuple[Customer, bool]:
    """The customer of (system, external_id), created or brought up to ``data``; True when created."""
    system, external_id = check_key(system, external_id)
    key = f"external:{CUSTOMER}:{system}:{external_id}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    customer_id = (
        await session.execute(
            select(ExternalRef.entity_id).where(
                ExternalRef.system == system, ExternalRef.entity_type == CUSTOMER,
                ExternalRef.external_id == external_id,
            )
        )
    ).scalar_one_or_none()
    if customer_id is None:
        customer = await create_customer(session, data, actor)
        session.add(ExternalRef(
            entity_type=CUSTOMER, entity_id=customer.id, system=system, external_id=external_id,
            status="SYNCED", synced_at=func.now(),
        ))
        await session.flush()
        return customer, True

    customer = await session.get_one(Customer, customer_id)
    if data.code.strip() != customer.code:
        raise DomainError.one(
            ErrorCode.INVALID, f"customer codes do not change: this customer's is {customer.code!r}", ["code"]
        )
    given: dict[str, Any] = {name: getattr(data, name) for name in FIELDS if getattr(data, name) is not None}
    if "name" in given:
        given["name"] = given["name"].strip()
    if "tags" in given:
        given["tags"] = [tag.strip() for tag in given["tags"]]
    changes = {name: value for name, value in given.items() if getattr(customer, name) != value}
    if not changes:
        return customer, False
    return await update_customer(session, customer.id, changes, actor), False
