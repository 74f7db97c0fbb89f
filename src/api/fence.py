"""Mutations under the partner fence (``domain.identity.fence``): a hidden row is a missing one."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from sqlalchemy import FromClause
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.unset import UnsetType

from api.relay import from_global_id
from domain.crm.models import Activity, Contact, Customer, Lead, Opportunity
from domain.finance.models import CreditNote, Invoice, Payment
from domain.identity.fence import Fence
from domain.sales.models import Quote, SalesOrder, Shipment
from domain.shared.errors import DomainError, ErrorCode, Problem
from domain.shared.names import camel

# global id type name -> table, for the ids a mutation's arguments name
NODE_TABLES: dict[str, FromClause] = {
    "Customer": Customer.__table__,
    "Contact": Contact.__table__,
    "Quote": Quote.__table__,
    "SalesOrder": SalesOrder.__table__,
    "Shipment": Shipment.__table__,
    "Invoice": Invoice.__table__,
    "Payment": Payment.__table__,
    "CreditNote": CreditNote.__table__,
    "Opportunity": Opportunity.__table__,
    "Lead": Lead.__table__,
    "Activity": Activity.__table__,
}


def _ids(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every string in a mutation's arguments, with its path (input objects walked)."""
    if isinstance(value, str):
        yield value, path
    elif isinstance(value, (list, tuple)):
        for i, each in enumerate(value):
            yield from _ids(each, (*path, str(i)))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            each = getattr(value, field.name, None)
            if each is not None and not isinstance(each, UnsetType):
                yield from _ids(each, (*path, camel(field.name)))


def _names_an_id(path: tuple[str, ...]) -> bool:
    name = next((part for part in reversed(path) if not part.isdigit()), "")
    return name in ("id", "ids") or name.endswith(("Id", "Ids"))


async def check_ids(session: AsyncSession, fence: Fence, arguments: dict[str, Any]) -> None:
    """NOT_FOUND for each argument that names a row the fence hides (as for a missing one).

    Field paths follow the mutations' own: relative to ``input``, ``["id"]`` for an id argument.
    """
    if fence.open:
        return
    problems: list[Problem] = []
    for name, value in arguments.items():
        start = () if name == "input" else (camel(name),)
        for text, path in _ids(value, start):
            if not _names_an_id(path):
                continue  # free text that happens to decode as an id is text
            decoded = from_global_id(text)
            if decoded is None or decoded[0] not in NODE_TABLES:
                continue
            type_name, pk = decoded
            if not await fence.sees(session, NODE_TABLES[type_name], pk):
                problems.append(Problem(ErrorCode.NOT_FOUND, f"{type_name} not found", path or None))
    if problems:
        raise DomainError(problems)
