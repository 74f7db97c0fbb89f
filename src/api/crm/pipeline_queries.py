from __future__ import annotations

import strawberry
from sqlalchemy import select

from api.context import Info
from api.crm.pipeline_types import Lead, LeadStatus, Opportunity, OpportunityStage, PipelineStage
from api.permissions import requires
from api.relay import Connection, paginate
from domain.crm import pipeline_reads
from domain.crm.models import Lead as LeadRow
from domain.crm.models import Opportunity as OpportunityRow
from domain.identity.scopes import Scope


@strawberry.type
class PipelineQuery:
    @strawberry.field(permission_classes=[requires(Scope.CRM_READ)])
    async def leads(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: list[LeadStatus] | None = None,
    ) -> Connection[Lead]:
        stmt = select(LeadRow.__table__)
        if status is not None:
            stmt = stmt.where(LeadRow.status.in_([s.value for s in status]))
        return await paginate(info, stmt, LeadRow.id, Lead.from_row, first=first, after=after)

    @strawberry.field(permission_classes=[requires(Scope.CRM_READ)])
    async def opportunities(
        self, info: Info, first: int | None = None, after: str | None = None,
        stage: list[OpportunityStage] | None = None,
    ) -> Connection[Opportunity]:
        stmt = select(OpportunityRow.__table__)
        if stage is not None:
            stmt = stmt.where(OpportunityRow.stage.in_([s.value for s in stage]))
        return await paginate(
            info, stmt, OpportunityRow.id, Opportunity.from_row, first=first, after=after
        )

    @strawberry.field(permission_classes=[requires(Scope.CRM_READ)])
    async def pipeline(self, info: Info) -> list[PipelineStage]:
        async with info.context.sessionmaker() as session:
            rows = await pipeline_reads.pipeline(session)
        return [PipelineStage.from_summary(row) for row in rows]
