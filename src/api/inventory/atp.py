"""``Item.availableToPromise``: the same ATP function order confirmation uses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import strawberry
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from api.context import Info
from domain.inventory.atp import AtpInputs, promise
from domain.sales.atp_inputs import load_atp_inputs
from domain.shared.errors import DomainError, ErrorCode


@strawberry.type
class AtpResult:
    quantity: Decimal
    available_now: Decimal = strawberry.field(description="Quantity that can be promised from stock now.")
    date: date


def atp_inputs_loader(sm: async_sessionmaker) -> DataLoader[int, AtpInputs | None]:
    async def load(item_ids: Sequence[int]) -> list[AtpInputs | None]:
        async with sm() as session:
            found = await load_atp_inputs(session, item_ids)
        return [found.get(item_id) for item_id in item_ids]

    return DataLoader(load_fn=load)


async def resolve_atp(info: Info, item_id: int, quantity: Decimal) -> AtpResult:
    if not quantity.is_finite() or quantity <= 0:
        raise DomainError.one(ErrorCode.INVALID, "quantity must be greater than 0", ["quantity"])
    inputs = await info.context.loaders.atp.load(item_id)
    if inputs is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "item not found")
    result = promise(quantity, inputs, date.today())
    return AtpResult(quantity=quantity, available_now=result.available_now, date=result.date)
