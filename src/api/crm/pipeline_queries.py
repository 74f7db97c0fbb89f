from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import func, select

from api.context import Info
from api.crm.pipeline_types import Activity, Lead, LeadStatus, Opportunity, OpportunityStage, PipelineStage
from api.limits import check_page_size
from api.permissions import requires
from api.relay import Connection, Edge, PageInfo, paginate
from domain.crm import pipeline_reads
from domain.crm.models import Lead as LeadRow
from domain.crm.models import Opportunity as OpportunityRow
from domain.identity.scopes import Scope
from domain.shared.errors import DomainError, ErrorCode

_CURSOR = "follow-up"


def follow_up_cursor(due_at: datetime | None, activity_id: int) -> str:
    """The position in the follow-up order (due date, id): pages stay stable as rows are added."""
    due = "" if due_at is None else due_at.isoformat()
    return base64.urlsafe_b64encode(f"{_CURSOR}|{due}|{activity_id}".encode()).decode()


def decode_follow_up_cursor(cursor: str) -> tuple[datetime | None, int]:
    try:
        kind, due, raw_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if kind != _CURSOR:
            raise ValueError(kind)
        return (datetime.fromisoformat(due) if due else None), int(raw_id)
    except (binascii.Error, UnicodeError, ValueError):
        raise DomainError.one(ErrorCode.INVALID, "is not a valid cursor", ["after"]) from None


@strawberry.type
class PipelineQuery:
    @strawberry.field(permission_classes=[requires(Scope.PIPELINE_READ)])
    async def leads(
        self, info: Info, first: int | None = None, after: str | None = None,
        status: list[LeadStatus] | None = None,
    ) -> Connection[Lead]:
        stmt = select(LeadRow.__table__)
        if status is not None:
            stmt = stmt.where(LeadRow.status.in_([s.value for s in status]))
        return await paginate(info, stmt, LeadRow.id, Lead.from_row, first=first, after=after)

    @strawberry.field(permission_classes=[requires(Scope.PIPELINE_READ)])
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

    @strawberry.field(permission_classes=[requires(Scope.PIPELINE_READ)])
    async def pipeline(self, info: Info) -> list[PipelineStage]:
        async with info.context.sessionmaker() as session:
            rows = await pipeline_reads.pipeline(session)
        return [PipelineStage.from_summary(row) for row in rows]

    @strawberry.field(
        permission_classes=[requires(Scope.PIPELINE_READ)],
        description=(
            "Follow-ups across opportunities, due date ascending (undated last), then by id: the "
            "overdue ones first. dueBefore keeps those due before that time; done: false the open ones."
        ),
    )
    async def activities(
        self, info: Info, first: int | None = None, after: str | None = None,
        due_before: datetime | None = None, done: bool | None = None,
    ) -> Connection[Activity]:
        size = check_page_size(first)
        position = None if after is None else decode_follow_up_cursor(after)
        stmt = pipeline_reads.follow_ups(due_before, done)
        page = stmt.order_by(*pipeline_reads.FOLLOW_UP_ORDER).limit(size + 1)
        if position is not None:
            page = page.where(pipeline_reads.after_follow_up(*position))
        sessionmaker = info.context.sessionmaker
        async with sessionmaker() as session:
            rows: Sequence[Any] = (await session.execute(page)).all()

        async def count() -> int:
            async with sessionmaker() as session:
                total = await session.execute(select(func.count()).select_from(stmt.subquery()))
                return int(total.scalar_one())

        edges = [
            Edge(cursor=follow_up_cursor(row.due_at, row.id), node=Activity.from_row(row))
            for row in rows[:size]
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, has_previous_page=position is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            count=count,
        )
