"""Reading the sales funnel (the arithmetic is ``pipeline_rules``) and the follow-ups."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Activity, Opportunity
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


def follow_ups(due_before: datetime | None, done: bool | None) -> Select[Any]:
    """Activities across opportunities, filtered; ordered by :data:`FOLLOW_UP_ORDER`."""
    stmt = select(Activity.__table__)
    if due_before is not None:
        stmt = stmt.where(Activity.due_at < due_before)
    if done is not None:
        stmt = stmt.where(Activity.done_at.is_not(None) if done else Activity.done_at.is_(None))
    return stmt


# Due date ascending, undated last, then id: the overdue follow-ups come first.
FOLLOW_UP_ORDER = (Activity.due_at.asc().nulls_last(), Activity.id.asc())


def after_follow_up(due_at: datetime | None, activity_id: int) -> ColumnElement[bool]:
    """The activities after (``due_at``, ``activity_id``) in :data:`FOLLOW_UP_ORDER`."""
    if due_at is None:
        return and_(Activity.due_at.is_(None), Activity.id > activity_id)
    return or_(
        Activity.due_at > due_at,
        and_(Activity.due_at == due_at, Activity.id > activity_id),
        Activity.due_at.is_(None),
    )
