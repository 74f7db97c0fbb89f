"""``Item.availableToPromise``: the same ATP function order confirmation uses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.context import Info
from domain.inventory.atp import promise
from domain.shared.errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from api.inventory.types import Item


@strawberry.type
class AtpResult:
    quantity: Decimal
    available_now: Decimal = strawberry.field(description="Quantity that can be promised from stock now.")
    date: date
    limited_by_id: strawberry.Private[int | None] = None

    @strawberry.field(
        description="The item whose availability sets the date: this item (its receipts or lead time) "
        "or a component at any depth of its BOM; null when stock covers the quantity."
    )
    async def limited_by(
        self, info: Info
    ) -> Annotated[Item, strawberry.lazy("api.inventory.types")] | None:
        from api.inventory.types import Item

        if self.limited_by_id is None:
            return None
        row = await info.context.loaders.inventory.item.load(self.limited_by_id)
        return None if row is None else Item.from_row(row)


async def resolve_atp(info: Info, item_id: int, quantity: Decimal) -> AtpResult:
    if not quantity.is_finite() or quantity <= 0:
        raise DomainError.one(ErrorCode.INVALID, "must be greater than 0", ["quantity"])
    items = await info.context.loaders.inventory.atp.load(item_id)
    if items is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "item not found")
    result = promise(item_id, quantity, items, date.today())
    return AtpResult(
        quantity=quantity, available_now=result.available_now, date=result.date, limited_by_id=result.limited_by
    )
