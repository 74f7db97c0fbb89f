from __future__ import annotations

import strawberry

from api.context import Info
from api.permissions import command
from api.purchasing.inputs import PurchaseOrderInput, ReceiptLineInput
from api.purchasing.types import PurchaseOrder, PurchaseOrderPayload
from api.relay import decode_id
from domain.identity.scopes import Scope
from domain.purchasing import services


@strawberry.type
class PurchasingMutation:
    @strawberry.mutation
    @command(Scope.PURCHASING_WRITE)
    async def create_purchase_order(self, info: Info, input: PurchaseOrderInput) -> PurchaseOrderPayload:
        data = input.to_domain()
        async with info.context.sessionmaker.begin() as session:
            row = await services.create_purchase_order(session, data, actor=info.context.viewer.name)
        return PurchaseOrderPayload(purchase_order=PurchaseOrder.from_row(row))

    @strawberry.mutation(
        description=(
            "Receives the given quantities (omitted: everything still open) into the default "
            "warehouse at each line's unit cost."
        )
    )
    @command(Scope.PURCHASING_WRITE)
    async def receive_purchase_order(
        self, info: Info, id: strawberry.ID, lines: list[ReceiptLineInput] | None = None
    ) -> PurchaseOrderPayload:
        pk = decode_id(id, "PurchaseOrder", "id")
        receipts = None if lines is None else [line.to_domain(i) for i, line in enumerate(lines)]
        async with info.context.sessionmaker.begin() as session:
            row = await services.receive_purchase_order(
                session, pk, receipts, actor=info.context.viewer.name
            )
        return PurchaseOrderPayload(purchase_order=PurchaseOrder.from_row(row))
