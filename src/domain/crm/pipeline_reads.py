"""Reading the sales funnel (the arithmetic is ``pipeline_rules``)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Opportunity
from domain.crm.models import OpportunityStageChange as StageChange
from domain.crm.pipeline_rules import Deal, StageSummary, summarize_pipeline


async def pipeline(session: AsyncSession) -> list[StageSummary]:
    """The funnel, from two statements whatever the number of opportunities."""
    deals = [
        Deal(row.stage, row.amount, row.probability)
        for row in await session.execute(
            select(Opportunity.stage, Opportunity.amount, Opportunity.probability)
        )
    ]
    histories: dict[int, list[str]] = defaultdict(list)
    changes = await session.execute(
        select(StageChange.opportunity_id, StageChange.stage).order_by(StageChange.id)
    )
    for row in changes:
        histories[row.opportunity_id].append(row.stage)
    return summarize_pipeline(deals, histories.values())
