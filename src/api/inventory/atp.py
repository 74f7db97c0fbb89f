"""``Item.availableToPromise``: the same ATP function order confirmation uses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from api.context import Info
from domain.inventory.atp import promise
from domain.shared.errors import DomainError, ErrorCode


@strawberry.type
class AtpResult:
    quantity: Decimal
    available_now: Decimal = strawberry.field(description="Quantity that can be promised from stock now.")
    date: date


async def resolve_atp(info: Info, item_id: int, quantity: Decimal) -> AtpResult:
    if not quantity.is_finite() or quantity <= 0:
        raise DomainError.one(ErrorCode.INVALID, "must be greater than 0", ["quantity"])
    inputs = await info.context.loaders.inventory.atp.load(item_id)
    if inputs is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "item not found")
    result = promise(quantity, inputs, date.today())
    return AtpResult(quantity=quantity, available_now=result.available_now, date=result.date)
