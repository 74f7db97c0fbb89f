from __future__ import annotations

import strawberry

from api.permissions import Command, command
from api.purchasing.inputs import PurchaseOrderInput, ReceiptLineInput
from api.purchasing.types import PurchaseOrder, PurchaseOrderPayload
from api.relay import decode_id
from domain.identity.scopes import Scope
from domain.purchasing import services


@strawberry.type
class PurchasingMutation:
    @strawberry.mutation
    @command(Scope.PURCHASING_WRITE)
    async def create_purchase_order(self, cmd: Command, input: PurchaseOrderInput) -> PurchaseOrderPayload:
        data = input.to_domain()
        row = await services.create_purchase_order(cmd.session, data, actor=cmd.actor)
        return PurchaseOrderPayload(purchase_order=PurchaseOrder.from_row(row))

    @strawberry.mutation(
        description=(
            "Receives the given quantities (omitted: everything still open) into the default "
            "warehouse at each line's unit cost."
        )
    )
    @command(Scope.PURCHASING_WRITE)
    async def receive_purchase_order(
        self, cmd: Command, id: strawberry.ID, lines: list[ReceiptLineInput] | None = None
    ) -> PurchaseOrderPayload:
        pk = decode_id(id, "PurchaseOrder", "id")
        receipts = None if lines is None else [line.to_domain(i) for i, line in enumerate(lines)]
        row = await services.receive_purchase_order(cmd.session, pk, receipts, actor=cmd.actor)
        return PurchaseOrderPayload(purchase_order=PurchaseOrder.from_row(row))
