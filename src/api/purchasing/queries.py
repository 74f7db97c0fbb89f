from __future__ import annotations

import strawberry
from sqlalchemy import or_, select

from api.context import Info
from api.permissions import requires
from api.purchasing.supplier_types import Supplier
from api.purchasing.types import PurchaseOrder, PurchaseOrderStatus
from api.relay import Connection, decode_id, paginate
from api.search import contains
from domain.identity.scopes import Scope
from domain.purchasing.models import PurchaseOrder as OrderRow
from domain.purchasing.models import PurchaseOrderLine as LineRow
from domain.purchasing.models import Supplier as SupplierRow
from domain.shared.errors import DomainError


def _pk_or_none(global_id: str | None, type_name: str) -> int | None:
    """The filter's key; an id of another type or garbage matches nothing (0 is no row's id)."""
    if global_id is None:
        return None
    try:
        return decode_id(global_id, type_name)
    except DomainError:
        return 0


@strawberry.type
class PurchasingQuery:
    @strawberry.field(permission_classes=[requires(Scope.PURCHASING_READ)])
    async def suppliers(
        self, info: Info, first: int | None = None, after: str | None = None, search: str | None = None,
    ) -> Connection[Supplier]:
        stmt = select(SupplierRow.__table__)
        if search:
            pattern = contains(search)
            stmt = stmt.where(or_(SupplierRow.code.ilike(pattern), SupplierRow.name.ilike(pattern)))
        return await paginate(info, stmt, SupplierRow.id, Supplier.from_row, first=first, after=after,
                              search=bool(search))

    @strawberry.field(
        permission_classes=[requires(Scope.PURCHASING_READ)],
        description="Purchase orders in id order; itemId: those with a line of that item.",
    )
    async def purchase_orders(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: list[PurchaseOrderStatus] | None = None, supplier_id: strawberry.ID | None = None,
        item_id: strawberry.ID | None = None,
    ) -> Connection[PurchaseOrder]:
        stmt = select(OrderRow.__table__)
        if status:
            stmt = stmt.where(OrderRow.status.in_([s.value for s in status]))
        supplier = _pk_or_none(supplier_id, "Supplier")
        if supplier is not None:
            stmt = stmt.where(OrderRow.supplier_id == supplier)
        item = _pk_or_none(item_id, "Item")
        if item is not None:
            stmt = stmt.where(OrderRow.id.in_(select(LineRow.order_id).where(LineRow.item_id == item)))
        return await paginate(info, stmt, OrderRow.id, PurchaseOrder.from_row, first=first, after=after)
