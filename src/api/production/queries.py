from __future__ import annotations

import strawberry
from sqlalchemy import select

from api.context import Info
from api.permissions import requires
from api.production.types import WorkOrder, WorkOrderStatus
from api.relay import Connection, paginate
from domain.identity.scopes import Scope
from domain.production.models import WorkOrder as WorkOrderRow


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
