"""CRM use cases on customers and contacts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.contacts import NewContact, check_contacts, new_contacts
from domain.crm.models import CreditLimitChange, Customer
from domain.integration.models import ExternalRef
from domain.shared.edits import check_changes
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.names import camel
from domain.shared.numbers import check_decimal, check_text
from domain.shared.parties import check_code, check_email, check_terms
from domain.shared.versions import lock_versioned


@dataclass
class NewCustomer:
    code: str
    name: str
    email: str | None = None
    phone: str | None = None
    segment: str | None = None
    tags: list[str] | None = None
    contacts: list[NewContact] = field(default_factory=list)
    payment_terms_days: int | None = None
    credit_limit: Decimal | None = None


def check_customer(problems: Problems, values: Mapping[str, Any]) -> None:
    """The customer fields present in ``values`` (name, email, terms, credit limit...), as every writer checks them."""
    if "name" in values:
        check_text(problems, values["name"], "name", required=True)
    check_email(problems, values.get("email"), "email")
    check_text(problems, values.get("phone"), "phone", max_length=50)
    check_text(problems, values.get("segment"), "segment", max_length=80)
    for i, tag in enumerate(values.get("tags") or ()):
        if not tag.strip() or len(tag) > 60:
            problems.invalid("tags must be 1-60 characters", "tags", str(i))
    check_terms(problems, values.get("payment_terms_days"), "paymentTermsDays")
    check_decimal(
        problems, values.get("credit_limit"), "creditLimit", places=2, non_negative=True,
        label="creditLimit",
    )


async def _code_taken(session: AsyncSession, code: str) -> bool:
    return (await session.execute(select(Customer.id).where(Customer.code == code))).first() is not None


def _record_limit(
    session: AsyncSession, customer_id: int, previous: Decimal | None, new: Decimal, actor: str | None
) -> None:
    """Every credit limit set or changed leaves a row (``Customer.creditLimitHistory``)."""
    session.add(CreditLimitChange(
        customer_id=customer_id, previous_limit=previous, new_limit=new, changed_by=actor or "system"
    ))


async def create_customer(
    session: AsyncSession, data: NewCustomer, actor: str | None = None, *, partner: str | None = None
) -> Customer:
    """A new customer; ``partner`` (a partner token's integration) links it to that system."""
    problems = Problems()
    code = data.code.strip()
    check_code(problems, code, "code")
    values = {k: getattr(data, k) for k in ("name", "email", "phone", "segment", "tags",
                                             "payment_terms_days", "credit_limit")}
    check_customer(problems, values)
    check_contacts(problems, data.contacts)
    problems.raise_if_any()
    if await _code_taken(session, code):
        raise DomainError.one(ErrorCode.DUPLICATE, f"customer code {code!r} is taken", ["code"])

    customer = Customer(
        code=code,
        name=data.name.strip(),
        email=data.email,
        phone=data.phone,
        segment=data.segment,
        tags=[t.strip() for t in data.tags or []],
        payment_terms_days=30 if data.payment_terms_days is None else data.payment_terms_days,
        credit_limit=data.credit_limit if data.credit_limit is not None else Decimal("0"),
    )
    session.add(customer)
    await session.flush()
    session.add_all(new_contacts(data.contacts, customer_id=customer.id))
    if data.credit_limit is not None:
        _record_limit(session, customer.id, None, customer.credit_limit, actor)
    if partner is not None:
        # the partner's own record: nothing to write back (api.fence reads the link)
        session.add(ExternalRef(
            entity_type="Customer", entity_id=customer.id, system=partner, status="SYNCED",
            synced_at=func.now(),
        ))
    await record_event(
        session, "customer.created", "Customer", customer.id, {"code": code}, actor
    )
    await session.flush()
    await session.refresh(customer)
    return customer


UPDATABLE = ("name", "email", "phone", "segment", "tags", "payment_terms_days", "credit_limit")
NULLABLE = ("email", "phone", "segment")


async def update_customer(
    session: AsyncSession, customer_id: int, changes: Mapping[str, Any], actor: str | None = None,
    *, expected_version: int | None = None,
) -> Customer:
    """Apply ``changes`` (only the keys given; None clears a nullable field).

    ``expected_version``: the version the client read; another one is a CONFLICT.
    """
    problems = Problems()
    check_changes(problems, changes, UPDATABLE, nullable=NULLABLE)
    check_customer(problems, {k: v for k, v in changes.items() if v is not None})
    problems.raise_if_any()

    customer = await lock_versioned(session, Customer, customer_id, expected_version, "customer")
    new_limit = changes.get("credit_limit")
    if new_limit is not None and new_limit != customer.credit_limit:
        _record_limit(session, customer.id, customer.credit_limit, new_limit, actor)
    for key, value in changes.items():
        if key == "name":
            value = value.strip()
        elif key == "tags":
            value = [t.strip() for t in value]
        setattr(customer, key, value)
    await session.flush()
    await record_event(
        session, "customer.updated", "Customer", customer.id,
        {"fields": sorted(camel(k) for k in changes)}, actor,
    )
    await session.refresh(customer)
    return customer
