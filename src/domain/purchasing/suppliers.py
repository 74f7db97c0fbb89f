"""Suppliers: the parties purchase orders are placed with.

Codes follow the customers' rule (``domain.shared.parties``). An inactive supplier
keeps its history but takes no new or changed purchase order, and firming refuses
to order from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.contacts import NewContact, check_contacts, new_contacts
from domain.purchasing.models import Supplier
from domain.shared.edits import check_changes
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.names import camel
from domain.shared.numbers import check_text
from domain.shared.parties import check_code, check_email, check_terms
from domain.shared.versions import lock_versioned

UPDATABLE = ("name", "email", "phone", "payment_terms_days", "active")
NULLABLE = ("email", "phone")
DEFAULT_TERMS_DAYS = 30


@dataclass
class NewSupplier:
    code: str
    name: str
    email: str | None = None
    phone: str | None = None
    payment_terms_days: int | None = None
    contacts: list[NewContact] = field(default_factory=list)


def check_supplier(problems: Problems, values: Mapping[str, Any]) -> None:
    """The supplier fields present in ``values``, as every writer checks them (the API, the bulk import)."""
    if "name" in values:
        check_text(problems, values["name"], "name", required=True)
    check_email(problems, values.get("email"), "email")
    check_text(problems, values.get("phone"), "phone", max_length=50)
    check_terms(problems, values.get("payment_terms_days"), "paymentTermsDays")


async def usable_supplier(session: AsyncSession, supplier_id: int, *field: str) -> Supplier:
    """The supplier a new or changed document names: NOT_FOUND, or INVALID_STATE when inactive.

    Read FOR SHARE: a deactivation in flight (``update_supplier`` locks FOR UPDATE)
    commits first and is seen, or waits until this document is written.
    """
    supplier = (await session.execute(
        select(Supplier).where(Supplier.id == supplier_id).with_for_update(read=True)
        .execution_options(populate_existing=True)
    )).scalar_one_or_none()
    if supplier is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "supplier not found", field)
    if not supplier.active:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"supplier {supplier.code} is inactive: it takes no new orders", field
        )
    return supplier


async def create_supplier(session: AsyncSession, data: NewSupplier, actor: str | None = None) -> Supplier:
    problems = Problems()
    code = data.code.strip()
    check_code(problems, code, "code")
    check_supplier(problems, {k: getattr(data, k) for k in ("name", "email", "phone", "payment_terms_days")})
    check_contacts(problems, data.contacts)
    problems.raise_if_any()
    if (await session.execute(select(Supplier.id).where(Supplier.code == code))).first() is not None:
        raise DomainError.one(ErrorCode.DUPLICATE, f"supplier code {code!r} is taken", ["code"])

    supplier = Supplier(
        code=code, name=data.name.strip(), email=data.email, phone=data.phone,
        payment_terms_days=DEFAULT_TERMS_DAYS if data.payment_terms_days is None else data.payment_terms_days,
    )
    session.add(supplier)
    await session.flush()
    session.add_all(new_contacts(data.contacts, supplier_id=supplier.id))
    await record_event(session, "supplier.created", "Supplier", supplier.id, {"code": code}, actor)
    await session.flush()
    await session.refresh(supplier)
    return supplier


async def update_supplier(
    session: AsyncSession, supplier_id: int, changes: Mapping[str, Any], actor: str | None = None,
    *, expected_version: int | None = None,
) -> Supplier:
    """Apply ``changes`` (only the keys given; None clears email or phone).

    ``expected_version``: the version the client read; another one is a CONFLICT.
    """
    problems = Problems()
    check_changes(problems, changes, UPDATABLE, nullable=NULLABLE)
    check_supplier(problems, {k: v for k, v in changes.items() if v is not None})
    problems.raise_if_any()

    supplier = await lock_versioned(session, Supplier, supplier_id, expected_version, "supplier")
    for key, value in changes.items():
        setattr(supplier, key, value.strip() if key == "name" else value)
    await session.flush()
    await record_event(
        session, "supplier.updated", "Supplier", supplier.id,
        {"fields": sorted(camel(k) for k in changes)}, actor,
    )
    await session.refresh(supplier)
    return supplier
