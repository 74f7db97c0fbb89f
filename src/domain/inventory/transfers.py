"""Moving free stock of an item from one warehouse to another.

A transfer is two ledger moves in one transaction (``TRANSFER_OUT`` of the source,
``TRANSFER_IN`` of the destination) that carry the reason and one shared reference,
("StockTransfer", n) from the ``stock_transfer_ids`` sequence. Only free stock moves
(on hand − reserved in the source): reservations stay where they are.

Locks: the item's balances through ``ledger.lock_balances``, the order every command
that moves stock of one item uses (confirmation, shipment, allocation), so a transfer
queues behind them and they behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory import ledger
from domain.inventory.availability import stock_freed
from domain.inventory.models import TRANSFER_IDS, Item, Warehouse
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.numbers import check_decimal, check_text, quantity_text

TRANSFER = "StockTransfer"
REASON_LENGTH = 300


@dataclass
class StockTransfer:
    item_id: int
    from_warehouse_id: int
    to_warehouse_id: int
    quantity: Decimal
    reason: str


async def transfer_stock(
    session: AsyncSession, transfer: StockTransfer, actor: str | None = None
) -> tuple[Row[Any], Row[Any]]:
    """Move ``quantity`` of free stock; the new (source, destination) balances."""
    problems = Problems()
    check_decimal(problems, transfer.quantity, "quantity", places=6, positive=True, label="quantity")
    check_text(problems, transfer.reason, "reason", required=True, max_length=REASON_LENGTH)
    if transfer.from_warehouse_id == transfer.to_warehouse_id:
        problems.invalid("must be another warehouse than fromWarehouseId", "toWarehouseId")
    problems.raise_if_any()

    if (await session.get(Item, transfer.item_id)) is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "item not found", ["itemId"])
    ids = [transfer.from_warehouse_id, transfer.to_warehouse_id]
    rows = await session.execute(select(Warehouse.id, Warehouse.code).where(Warehouse.id.in_(ids)))
    codes = {row.id: row.code for row in rows}
    for warehouse_id, field in zip(ids, ("fromWarehouseId", "toWarehouseId"), strict=True):
        if warehouse_id not in codes:
            problems.add(ErrorCode.NOT_FOUND, "warehouse not found", field)
    problems.raise_if_any()

    balances = {b.warehouse_id: b for b in await ledger.lock_balances(session, transfer.item_id)}
    source = balances.get(transfer.from_warehouse_id)
    free = source.available if source is not None else Decimal(0)
    if free < transfer.quantity:
        raise DomainError.one(
            ErrorCode.INSUFFICIENT_STOCK,
            f"only {quantity_text(free)} free in {codes[transfer.from_warehouse_id]} "
            "(on hand less reserved)",
            ["quantity"],
        )

    reference = ledger.Reference(TRANSFER, int(await session.scalar(TRANSFER_IDS.next_value())))
    reason = transfer.reason.strip()
    moved = [
        await ledger.post(
            session, item_id=transfer.item_id, warehouse_id=warehouse_id, kind=kind, on_hand=on_hand,
            reason=reason, reference=reference, actor=actor,
        )
        for warehouse_id, kind, on_hand in (
            (transfer.from_warehouse_id, "TRANSFER_OUT", -transfer.quantity),
            (transfer.to_warehouse_id, "TRANSFER_IN", transfer.quantity),
        )
    ]
    out, into = moved
    if out is None or into is None:  # cannot happen under the balance locks; never move reserved stock
        raise DomainError.one(ErrorCode.INSUFFICIENT_STOCK, "not enough free stock", ["quantity"])
    await record_event(
        session, "stock.transferred", "Item", transfer.item_id,
        {"transfer": reference.id, "fromWarehouseId": transfer.from_warehouse_id,
         "toWarehouseId": transfer.to_warehouse_id, "quantity": str(transfer.quantity)},
        actor,
    )
    await stock_freed(
        session, [transfer.item_id],
        source=f"transfer to {codes[transfer.to_warehouse_id]} ({reason})", actor=actor,
    )
    return out, into
