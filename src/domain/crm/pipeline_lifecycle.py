"""The ways through a lead's and an activity's lifecycle.

Lead: NEW --qualify--> QUALIFIED --convertLead--> CONVERTED (final); NEW or QUALIFIED
--disqualify(reason)--> DISQUALIFIED, and a DISQUALIFIED lead may be qualified again
(as Odoo restores a lost lead): its way out. ``convertLead`` takes a NEW or QUALIFIED
lead, never a DISQUALIFIED or CONVERTED one.

Activity: open (``doneAt`` null) --complete(outcome)--> done, once.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.models import Activity, Lead
from domain.shared.errors import DomainError, ErrorCode, Problems
from domain.shared.events import record_event
from domain.shared.numbers import check_text

QUALIFIABLE = ("NEW", "DISQUALIFIED")
DISQUALIFIABLE = ("NEW", "QUALIFIED")
# the statuses convertLead accepts
CONVERTIBLE = ("NEW", "QUALIFIED")
REASON_MAX = 500
OUTCOME_MAX = 10_000


async def _locked_lead(session: AsyncSession, lead_id: int) -> Lead:
    lead = await session.get(Lead, lead_id, with_for_update=True, populate_existing=True)
    if lead is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "lead not found", ["id"])
    return lead


def _refuse(lead: Lead, action: str, allowed: tuple[str, ...]) -> DomainError:
    final = " (CONVERTED is final)" if lead.status == "CONVERTED" else ""
    return DomainError.one(
        ErrorCode.INVALID_STATE,
        f"cannot {action} a {lead.status} lead{final}; only a {' or '.join(allowed)} one",
        ["id"],
    )


async def qualify_lead(session: AsyncSession, lead_id: int, actor: str | None = None) -> Lead:
    """NEW or DISQUALIFIED → QUALIFIED (the disqualification reason stays on record)."""
    lead = await _locked_lead(session, lead_id)
    if lead.status not in QUALIFIABLE:
        raise _refuse(lead, "qualify", QUALIFIABLE)
    previous = lead.status
    lead.status = "QUALIFIED"
    await session.flush()
    await record_event(session, "lead.qualified", "Lead", lead.id, {"from": previous}, actor)
    await session.refresh(lead)
    return lead


async def disqualify_lead(
    session: AsyncSession, lead_id: int, reason: str, actor: str | None = None
) -> Lead:
    """NEW or QUALIFIED → DISQUALIFIED, with a non-blank reason."""
    problems = Problems()
    check_text(problems, reason, "reason", required=True, max_length=REASON_MAX)
    problems.raise_if_any()
    lead = await _locked_lead(session, lead_id)
    if lead.status not in DISQUALIFIABLE:
        raise _refuse(lead, "disqualify", DISQUALIFIABLE)
    previous = lead.status
    lead.status = "DISQUALIFIED"
    lead.disqualification_reason = reason.strip()
    await session.flush()
    await record_event(
        session, "lead.disqualified", "Lead", lead.id,
        {"from": previous, "reason": lead.disqualification_reason}, actor,
    )
    await session.refresh(lead)
    return lead


async def complete_activity(
    session: AsyncSession, activity_id: int, outcome: str, actor: str | None = None
) -> Activity:
    """Mark an open activity done now, with its outcome; a done one is INVALID_STATE."""
    problems = Problems()
    check_text(problems, outcome, "outcome", required=True, max_length=OUTCOME_MAX)
    problems.raise_if_any()
    activity = await session.get(Activity, activity_id, with_for_update=True, populate_existing=True)
    if activity is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "activity not found", ["id"])
    if activity.done_at is not None:
        raise DomainError.one(
            ErrorCode.INVALID_STATE, f"the activity was already completed at {activity.done_at.isoformat()}",
            ["id"],
        )
    activity.done_at = func.now()  # the transaction's time, as created_at
    activity.outcome = outcome.strip()
    await session.flush()
    await record_event(
        session, "activity.completed", "Activity", activity.id,
        {"opportunityId": activity.opportunity_id}, actor,
    )
    await session.refresh(activity)
    return activity
