from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy import select
from strawberry.permission import BasePermission

from api.context import Info
from api.permissions import can, requires
from api.production.types import KittingAnalysis, WorkOrder, WorkOrderStatus
from api.relay import Connection, decode_id, paginate
from domain.identity.scopes import Scope
from domain.production import kitting_reads
from domain.production.models import WorkOrder as WorkOrderRow
from domain.shared.errors import DomainError, ErrorCode


class ReadsKitting(BasePermission):
    """Production reads work orders, sales reads its orders: either may analyse kits."""

    message = "FORBIDDEN: needs scope production:read or sales:read"
    scopes = (Scope.PRODUCTION_READ, Scope.SALES_READ)  # read by api.authorization
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 - strawberry reads it per instance

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return can(info, Scope.PRODUCTION_READ) or can(info, Scope.SALES_READ)


@strawberry.type
class ProductionQuery:
    @strawberry.field(permission_classes=[requires(Scope.PRODUCTION_READ)])
    async def work_orders(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: list[WorkOrderStatus] | None = None,
    ) -> Connection[WorkOrder]:
        stmt = select(WorkOrderRow.__table__)
        if status:
            stmt = stmt.where(WorkOrderRow.status.in_([s.value for s in status]))
        return await paginate(info, stmt, WorkOrderRow.id, WorkOrder.from_row, first=first, after=after)

    @strawberry.field(permission_classes=[ReadsKitting])
    async def kitting_analysis(
        self, info: Info, sales_order_id: strawberry.ID | None = None,
        work_order_id: strawberry.ID | None = None,
    ) -> KittingAnalysis:
        if (sales_order_id is None) == (work_order_id is None):
            raise DomainError.one(ErrorCode.INVALID, "give exactly one of salesOrderId and workOrderId")
        loaders = info.context.loaders  # fenced (domain.identity.fence): a partner's own orders only
        async with info.context.sessionmaker() as session:
            if sales_order_id is not None:
                pk = decode_id(sales_order_id, "SalesOrder", "salesOrderId")
                if await loaders.sales.order.load(pk) is None:
                    raise DomainError.one(ErrorCode.NOT_FOUND, "sales order not found", ["salesOrderId"])
                kit = await kitting_reads.sales_order_kitting(session, pk, today=date.today())
            else:
                assert work_order_id is not None
                pk = decode_id(work_order_id, "WorkOrder", "workOrderId")
                if await loaders.production.work_order.load(pk) is None:
                    raise DomainError.one(ErrorCode.NOT_FOUND, "work order not found", ["workOrderId"])
                kit = await kitting_reads.work_order_kitting(session, pk, today=date.today())
        return KittingAnalysis.from_kit(kit)
