from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from api.context import Info
from api.permissions import can, checks, requires
from api.planning.types import Job, MrpRun, PlannedOrder, PlannedOrderKind, item_filter, planned_orders_page
from api.relay import Connection, from_global_id
from domain.costing.models import COST_ROLLUP
from domain.costing.runs import COSTING
from domain.identity.scopes import Scope
from domain.planning.models import MrpRun as MrpRunRow
from domain.planning.services import MRP

# who may follow a job, by kind (a kind not listed is for admins only)
JOB_SCOPES: dict[str, Scope] = {MRP: Scope.PLANNING_READ, COSTING: Scope.COSTING_READ, COST_ROLLUP: Scope.COSTING_READ}


def _pk(global_id: str, type_name: str) -> int | None:
    decoded = from_global_id(global_id)
    return decoded[1] if decoded is not None and decoded[0] == type_name else None


def may_follow(info: Any, kind: str) -> bool:
    return can(info, JOB_SCOPES.get(kind, Scope.ADMIN))


async def load_job(info: Info, pk: int) -> Job | None:
    row = await info.context.loaders.planning.job.load(pk)
    if row is None or not may_follow(info, row.kind):
        return None
    return Job.from_row(row)


@strawberry.type
class PlanningQuery:
    @strawberry.field(permission_classes=[requires(Scope.PLANNING_READ)])
    async def mrp_run(self, info: Info, id: strawberry.ID) -> MrpRun | None:
        pk = _pk(id, "MrpRun")
        row = None if pk is None else await info.context.loaders.planning.run.load(pk)
        return None if row is None else MrpRun.from_row(row)

    @strawberry.field(
        permission_classes=[requires(Scope.PLANNING_READ)],
        description="The most recent run whose plan was saved (the plan in force).",
    )
    async def latest_mrp_run(self, info: Info) -> MrpRun | None:
        async with info.context.sessionmaker() as session:
            row = (
                await session.execute(
                    select(MrpRunRow.__table__)
                    .where(MrpRunRow.completed_at.is_not(None))
                    .order_by(MrpRunRow.completed_at.desc(), MrpRunRow.id.desc())
                    .limit(1)
                )
            ).one_or_none()
        return None if row is None else MrpRun.from_row(row)

    @strawberry.field(
        permission_classes=[requires(Scope.PLANNING_READ)],
        description="The planned orders in force: the latest plan's, and every firmed one.",
    )
    async def planned_orders(
        self, info: Info, first: int | None = None, after: str | None = None,
        item_id: strawberry.ID | None = None, kind: PlannedOrderKind | None = None,
    ) -> Connection[PlannedOrder]:
        return await planned_orders_page(
            info, run_id=None, first=first, after=after, item_pk=item_filter(item_id), kind=kind
        )

    @strawberry.field(description=(
        "A background job, for whoever may follow its kind (MRP: planning:read; COSTING and COST_ROLLUP: "
        "costing:read)."
    ))
    @checks(per_object=True)
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        pk = _pk(id, "Job")
        return None if pk is None else await load_job(info, pk)
