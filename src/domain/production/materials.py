"""A work order's stock movements: components issued, finished units received.

Issues are all or nothing: every balance involved is locked in ascending item id
(like every other multi-item movement) before anything moves, and a shortage of any
component refuses the whole issue. ISSUE moves reference the component (each taken
warehouse by warehouse, ``allocation.take``), the PRODUCTION move the work order; it
arrives in the default warehouse, after the issues, valued at what its materials cost
the work order so far (``output_cost``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory import ledger
from domain.inventory.allocation import take, takeable
from domain.inventory.models import Item, ItemValuation, StockMove
from domain.inventory.services import default_warehouse_id
from domain.inventory.valuation import unit_cost_now
from domain.production.models import WorkOrder, WorkOrderComponent
from domain.production.output_cost import ComponentCost, provisional_unit_cost
from domain.shared.errors import DomainError, ErrorCode, Problem
from domain.shared.numbers import quantity_text

COMPONENT = "WorkOrderComponent"
# the reference of a work order's PRODUCTION receipts (and of its revaluations, domain.costing)
WORK_ORDER = "WorkOrder"
ZERO = Decimal(0)


async def move_stock(
    session: AsyncSession,
    order: WorkOrder,
    issues: Sequence[tuple[WorkOrderComponent, Decimal]],
    field: str,
    produced: Decimal = ZERO,
    actor: str | None = None,
) -> list[dict[str, str | int]]:
    """Issue ``issues`` (all or nothing) and receive ``produced`` units of the order's item.

    Every balance involved is locked in ascending item id before anything moves; a
    shortage raises INSUFFICIENT_STOCK naming each short component.
    """
    wanted = {component.item_id: (component, qty) for component, qty in issues if qty > 0}
    item_ids = sorted(set(wanted) | ({order.item_id} if produced > 0 else set()))
    balances: dict[int, list[ledger.Balance]] = {}
    for item_id in item_ids:
        balances[item_id] = await ledger.lock_balances(session, item_id)

    short: list[tuple[int, Decimal, Decimal]] = []
    for item_id, (_, qty) in wanted.items():
        available = takeable(b.stock for b in balances[item_id])
        if available < qty:
            short.append((item_id, qty, available))
    if short:
        rows = await session.execute(
            select(Item.id, Item.sku).where(Item.id.in_([item_id for item_id, _, _ in short]))
        )
        skus = {item_id: sku for item_id, sku in rows}
        raise DomainError([
            Problem(
                ErrorCode.INSUFFICIENT_STOCK,
                f"{skus.get(item_id, item_id)}: {quantity_text(qty)} needed, "
                f"{quantity_text(available)} available",
                (field,),
            )
            for item_id, qty, available in sorted(short)
        ])

    warehouse_id = await default_warehouse_id(session) if produced > 0 else None
    if produced > 0 and warehouse_id is None:
        raise DomainError.one(ErrorCode.INVALID_STATE, "no warehouse exists", [field])
    issued: list[dict[str, str | int]] = []
    for item_id in sorted(wanted):  # issues first: the output is valued from them
        component, qty = wanted[item_id]
        by_warehouse = {b.warehouse_id: b for b in balances[item_id]}
        for source, quantity in take(qty, [b.stock for b in by_warehouse.values()]):
            posted = await ledger.post(
                session, item_id=item_id, warehouse_id=source, kind="ISSUE",
                on_hand=-quantity, reference=ledger.Reference(COMPONENT, component.id), actor=actor,
            )
            if posted is None:  # the balance is locked and was checked above
                raise RuntimeError(f"issue refused for item {item_id}")
            by_warehouse[source].on_hand -= quantity
        component.issued_quantity += qty
        issued.append({"itemId": item_id, "quantity": str(qty)})
    if produced > 0 and warehouse_id is not None:
        posted = await ledger.post(
            session, item_id=order.item_id, warehouse_id=warehouse_id, kind="PRODUCTION",
            on_hand=produced, unit_cost=await _output_cost(session, order),
            reference=ledger.Reference(WORK_ORDER, order.id), actor=actor,
        )
        if posted is None:  # an increase cannot be refused
            raise RuntimeError(f"production receipt refused for item {order.item_id}")
    return issued


async def _output_cost(session: AsyncSession, order: WorkOrder) -> Decimal | None:
    """``output_cost.provisional_unit_cost`` of the order, from its components' issues so far."""
    components = (
        await session.execute(select(WorkOrderComponent).where(WorkOrderComponent.work_order_id == order.id))
    ).scalars().all()
    if not components:
        return None
    ids = [c.id for c in components]
    values = dict((await session.execute(
        select(StockMove.reference_id, -func.sum(StockMove.value))
        .where(StockMove.reference_type == COMPONENT, StockMove.reference_id.in_(ids), StockMove.kind == "ISSUE")
        .group_by(StockMove.reference_id)
    )).tuples().all())
    now = {
        row.id: unit_cost_now(row.average_cost, row.standard_cost)
        for row in await session.execute(
            select(Item.id, ItemValuation.average_cost, Item.standard_cost)
            .outerjoin(ItemValuation, ItemValuation.item_id == Item.id)
            .where(Item.id.in_([c.item_id for c in components]))
        )
    }
    return provisional_unit_cost(order.quantity, [
        ComponentCost(c.required_quantity, c.issued_quantity, values.get(c.id) or ZERO, now[c.item_id])
        for c in components
    ])
