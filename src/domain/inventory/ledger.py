"""The stock ledger: every movement is an appended row plus its balance change.

`post` is the only code that writes `stock_moves` or changes `stock_balances`, so
the ledger and the balances cannot drift apart. A movement that would leave on-hand
below reserved, or either below zero, is refused (the conditional UPDATE finds no
row) and the CHECK constraints on `stock_balances` back that up.

Every on-hand change is valued too (`domain.inventory.valuation`): under the lock of
the item's `item_valuations` row, taken after its balance, the movement gets its unit
cost and value and the item's average moves, so an item's stock value is always the
sum of its ledger values. `revalue` is the one way to change a value without moving
stock (a REVALUATION row).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.inventory import valuation
from domain.inventory.allocation import Stock
from domain.inventory.models import Item, ItemValuation, StockBalance, StockMove, Warehouse
from domain.inventory.valuation import Valuation

ZERO = Decimal(0)


@dataclass(frozen=True)
class Reference:
    """The document a movement belongs to, e.g. ("SalesOrderLine", 42)."""

    type: str
    id: int


BALANCES = cast(Table, StockBalance.__table__)
MOVES = cast(Table, StockMove.__table__)
WAREHOUSES = cast(Table, Warehouse.__table__)
VALUATIONS = cast(Table, ItemValuation.__table__)


@dataclass
class Balance:
    """A locked balance as the caller sees it while it decides what to move."""

    warehouse_id: int
    on_hand: Decimal
    reserved: Decimal
    is_default: bool = False

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    @property
    def stock(self) -> Stock:
        """What may be taken here now, for ``allocation.take``."""
        return Stock(self.warehouse_id, self.available, self.is_default)


# Statements built once, on the tables rather than the mapped classes: they run
# several times in every confirmation and shipment, and neither ORM identity
# bookkeeping nor per-call expression building is needed (SQLAlchemy memoises a
# statement object's cache key).
_B = BALANCES.c
_ADD = (
    pg_insert(BALANCES)
    .values(item_id=bindparam("p_item_id"), warehouse_id=bindparam("p_warehouse_id"),
            on_hand=bindparam("p_on_hand"))
    .on_conflict_do_update(
        index_elements=[_B.item_id, _B.warehouse_id],
        set_={"on_hand": _B.on_hand + bindparam("p_on_hand")},
    )
    .returning(_B.item_id, _B.warehouse_id, _B.on_hand, _B.reserved)
)
_MOVE = (
    update(BALANCES)
    .where(
        _B.item_id == bindparam("p_item_id"),
        _B.warehouse_id == bindparam("p_warehouse_id"),
        _B.on_hand + bindparam("p_on_hand") >= _B.reserved + bindparam("p_reserved"),
        _B.reserved + bindparam("p_reserved") >= 0,
    )
    .values(on_hand=_B.on_hand + bindparam("p_on_hand"), reserved=_B.reserved + bindparam("p_reserved"))
    .returning(_B.item_id, _B.warehouse_id, _B.on_hand, _B.reserved)
)
_APPEND = insert(MOVES).values(
    item_id=bindparam("p_item_id"),
    warehouse_id=bindparam("p_warehouse_id"),
    kind=bindparam("p_kind"),
    quantity_on_hand=bindparam("p_on_hand"),
    quantity_reserved=bindparam("p_reserved"),
    unit_cost=bindparam("p_unit_cost"),
    value=bindparam("p_value"),
    reason=bindparam("p_reason"),
    reference_type=bindparam("p_reference_type"),
    reference_id=bindparam("p_reference_id"),
    actor=bindparam("p_actor"),
)
_V = VALUATIONS.c
# the item's valuation row, created on its first movement, locked until commit (a no-op
# update is what makes ON CONFLICT lock and return the existing row)
_LOCK_VALUATION = (
    pg_insert(VALUATIONS)
    .values(item_id=bindparam("p_item_id"))
    .on_conflict_do_update(index_elements=[_V.item_id], set_={"item_id": _V.item_id})
    .returning(_V.quantity, _V.value, _V.average_cost)
)
_SAVE_VALUATION = (
    update(VALUATIONS)
    .where(_V.item_id == bindparam("p_item_id"))
    .values(quantity=bindparam("p_quantity"), value=bindparam("p_value"),
            average_cost=bindparam("p_average"), updated_at=func.now())
)
_STANDARD_COST = select(Item.standard_cost).where(Item.id == bindparam("p_item_id"))
_LOCK = (
    select(_B.warehouse_id, _B.on_hand, _B.reserved, WAREHOUSES.c.is_default)
    .join(WAREHOUSES, WAREHOUSES.c.id == _B.warehouse_id)
    .where(_B.item_id == bindparam("p_item_id"))
    # one lock order for every caller (it is also allocation.draw_order)
    .order_by(WAREHOUSES.c.is_default.desc(), WAREHOUSES.c.id)
    .with_for_update(of=BALANCES)
)


async def post(
    session: AsyncSession,
    *,
    item_id: int,
    warehouse_id: int,
    kind: str,
    on_hand: Decimal = ZERO,
    reserved: Decimal = ZERO,
    reason: str | None = None,
    reference: Reference | None = None,
    unit_cost: Decimal | None = None,
    actor: str | None = None,
) -> Row[Any] | None:
    """Apply one movement; the new balance (item_id, warehouse_id, on_hand, reserved),
    or None (and nothing written) when the balance would go invalid.

    ``unit_cost`` is what an increase comes in at (None: the current average, else the
    item's standard cost, else zero); decreases always leave at the average.
    """
    params = {"p_item_id": item_id, "p_warehouse_id": warehouse_id, "p_on_hand": on_hand, "p_reserved": reserved}
    statement = _ADD if on_hand > 0 and reserved == 0 else _MOVE
    balance = (await session.execute(statement, params)).one_or_none()
    if balance is None:
        return None
    value: Decimal | None = None
    if on_hand != 0:
        movement = await _value(session, item_id, on_hand, unit_cost)
        unit_cost, value = movement.unit_cost, movement.value
    else:
        unit_cost = None
    await session.execute(
        _APPEND,
        params | {
            "p_kind": kind,
            "p_unit_cost": unit_cost,
            "p_value": value,
            "p_reason": reason,
            "p_reference_type": reference.type if reference else None,
            "p_reference_id": reference.id if reference else None,
            "p_actor": actor,
        },
    )
    return balance


async def lock_valuation(session: AsyncSession, item_id: int) -> Valuation:
    """The item's valuation, locked until commit (after its balances, never before)."""
    row = (await session.execute(_LOCK_VALUATION, {"p_item_id": item_id})).one()
    return Valuation(row.quantity, row.value, row.average_cost)


async def _save_valuation(session: AsyncSession, item_id: int, state: Valuation) -> None:
    await session.execute(
        _SAVE_VALUATION,
        {"p_item_id": item_id, "p_quantity": state.quantity, "p_value": state.value, "p_average": state.average},
    )


async def _value(
    session: AsyncSession, item_id: int, on_hand: Decimal, unit_cost: Decimal | None
) -> valuation.Movement:
    state = await lock_valuation(session, item_id)
    if on_hand > 0:
        standard = None
        if unit_cost is None and state.average is None:
            standard = (await session.execute(_STANDARD_COST, {"p_item_id": item_id})).scalar_one_or_none()
        state, movement = valuation.receive(state, on_hand, valuation.incoming_cost(unit_cost, state, standard))
    else:
        state, movement = valuation.issue(state, -on_hand)
    await _save_valuation(session, item_id, state)
    return movement


async def revalue(
    session: AsyncSession,
    *,
    item_id: int,
    warehouse_id: int,
    amount: Decimal,
    reason: str,
    reference: Reference,
    actor: str | None = None,
) -> Valuation | None:
    """Add ``amount`` to the value of the item's stock on hand (a REVALUATION row);
    None (and nothing written) when nothing is on hand or the amount is zero.

    Takes the item's balance locks first, like every movement, so it queues behind
    them instead of deadlocking with one.
    """
    await lock_balances(session, item_id)
    state = await lock_valuation(session, item_id)
    if amount == 0 or state.quantity <= 0:
        return None
    state = valuation.revalue(state, amount)
    await _save_valuation(session, item_id, state)
    await session.execute(
        _APPEND,
        {
            "p_item_id": item_id, "p_warehouse_id": warehouse_id, "p_on_hand": ZERO, "p_reserved": ZERO,
            "p_kind": "REVALUATION", "p_unit_cost": None, "p_value": amount, "p_reason": reason,
            "p_reference_type": reference.type, "p_reference_id": reference.id, "p_actor": actor,
        },
    )
    return state


async def lock_balances(session: AsyncSession, item_id: int) -> list[Balance]:
    """The item's balances, default warehouse first, locked until commit.

    Taking these row locks before deciding how much to reserve is what makes
    concurrent reservations of one item queue up instead of overbooking. The
    caller keeps the returned figures current as it posts movements.
    """
    rows = await session.execute(_LOCK, {"p_item_id": item_id})
    return [Balance(row.warehouse_id, row.on_hand, row.reserved, row.is_default) for row in rows]
