from __future__ import annotations

import strawberry

from api.permissions import Command, command
from api.purchasing.inputs import (
    PurchaseOrderInput,
    PurchaseOrderUpdateInput,
    ReceiptLineInput,
    SupplierInput,
    SupplierUpdateInput,
)
from api.purchasing.supplier_types import Supplier, SupplierPayload
from api.purchasing.types import PurchaseOrder, PurchaseOrderPayload
from api.relay import decode_id
from domain.identity.scopes import Scope
from domain.purchasing import changes, services, suppliers


@strawberry.type
class PurchasingMutation:
    @strawberry.mutation
    @command(Scope.PURCHASING_WRITE)
    async def create_supplier(self, cmd: Command, input: SupplierInput) -> SupplierPayload:
        row = await suppliers.create_supplier(cmd.session, input.to_domain(), actor=cmd.actor)
        return SupplierPayload(supplier=Supplier.from_row(row))

    @strawberry.mutation(description="Changes the fields given; active=false keeps new purchase orders away.")
    @command(Scope.PURCHASING_WRITE)
    async def update_supplier(
        self, cmd: Command, id: strawberry.ID, input: SupplierUpdateInput
    ) -> SupplierPayload:
        pk = decode_id(id, "Supplier", "id")
        row = await suppliers.update_supplier(
            cmd.session, pk, input.changes(), actor=cmd.actor, expected_version=input.expected_version
        )
        return SupplierPayload(supplier=Supplier.from_row(row))

    @strawberry.mutation
    @command(Scope.PURCHASING_WRITE)
    async def create_purchase_order(self, cmd: Command, input: PurchaseOrderInput) -> PurchaseOrderPayload:
        data = input.to_domain()
        row = await services.create_purchase_order(cmd.session, data, actor=cmd.actor, today=cmd.today)
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

    @strawberry.mutation(
        description=(
            "Changes an OPEN or PARTIALLY_RECEIVED order: its supplier (while nothing was received) and "
            "its lines. Backorders promised on the lines' receipts are re-promised."
        )
    )
    @command(Scope.PURCHASING_WRITE)
    async def update_purchase_order(
        self, cmd: Command, id: strawberry.ID, input: PurchaseOrderUpdateInput
    ) -> PurchaseOrderPayload:
        pk = decode_id(id, "PurchaseOrder", "id")
        supplier = None if input.supplier_id is None else decode_id(input.supplier_id, "Supplier", "supplierId")
        lines = None if input.lines is None else [line.to_domain(i) for i, line in enumerate(input.lines)]
        row = await changes.update_purchase_order(
            cmd.session, pk, supplier_id=supplier, lines=lines, today=cmd.today, actor=cmd.actor
        )
        return PurchaseOrderPayload(purchase_order=PurchaseOrder.from_row(row))

    @strawberry.mutation(
        description=(
            "Cancels what was not received: CANCELLED, or RECEIVED when part of the order came. "
            "Backorders promised on its receipts are re-promised."
        )
    )
    @command(Scope.PURCHASING_WRITE)
    async def cancel_purchase_order(self, cmd: Command, id: strawberry.ID, reason: str) -> PurchaseOrderPayload:
        pk = decode_id(id, "PurchaseOrder", "id")
        row = await changes.cancel_purchase_order(cmd.session, pk, reason, today=cmd.today, actor=cmd.actor)
        return PurchaseOrderPayload(purchase_order=PurchaseOrder.from_row(row))
