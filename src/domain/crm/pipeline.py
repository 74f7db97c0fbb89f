"""The sales pipeline's commands: leads, opportunities, activities.

The arithmetic (default probabilities, amounts) is ``pipeline_rules``; the funnel's
numbers are read by ``pipeline_reads``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.crm.contacts import NewContact
from domain.crm.models import ACTIVITY_KINDS, STAGES, Activity, Customer, Lead, Opportunity
from domain.crm.models import OpportunityLine as LineRow
from domain.crm.models import OpportunityStageChange as StageChange
from domain.crm.pipeline_lifecycle import CONVERTIBLE
from domain.crm.pipeline_rules import CLOSED, DEFAULT_PROBABILITY, lines_amount
from domain.crm.services import NewCustomer, create_customer
from domain.inventory.models import Item
from domain.shared.errors import DomainError, ErrorCode, Problem, Problems
from domain.shared.events import record_event
from domain.shared.limits import check_line_count
from domain.shared.numbers import check_decimal, check_text
from domain.shared.parties import CODE, EMAIL


@dataclass
class NewLead:
    name: str
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    source: str | None = None
    owner: str | None = None


@dataclass
class NewOpportunityLine:
    item_id: int
    quantity: Decimal
    unit_price: Decimal | None = None


@dataclass
class NewOpportunity:
    customer_id: int
    name: str
    stage: str | None = None
    probability: int | None = None
    amount: Decimal | None = None
    expected_close_date: date | None = None
    owner: str | None = None
    lines: Sequence[NewOpportunityLine] = ()


@dataclass
class LeadConversion:
    customer_code: str
    opportunity_name: str
    amount: Decimal | None = None
    expected_close_date: date | None = None


@dataclass
class NewActivity:
    opportunity_id: int
    kind: str
    subject: str
    notes: str | None = None
    due_at: datetime | None = None


def _check_probability(problems: Problems, probability: int | None, *field: str) -> None:
    if probability is not None and not 0 <= probability <= 100:
        problems.invalid("probability must be between 0 and 100", *field)


def _check_stage(problems: Problems, stage: str | None, *field: str) -> None:
    if stage is not None and stage not in STAGES:
        problems.invalid(f"unknown stage {stage!r}", *field)


async def create_lead(session: AsyncSession, data: NewLead, actor: str | None = None) -> Lead:
    problems = Problems()
    check_text(problems, data.name, "name", required=True)
    check_text(problems, data.company, "company")
    if data.email is not None and (not EMAIL.match(data.email) or len(data.email) > 254):
        problems.invalid("is not a valid e-mail address", "email")
    check_text(problems, data.phone, "phone", max_length=50)
    check_text(problems, data.source, "source", max_length=80)
    check_text(problems, data.owner, "owner", max_length=120)
    problems.raise_if_any()

    lead = Lead(
        name=data.name.strip(), company=data.company, email=data.email, phone=data.phone,
        source=data.source, owner=data.owner, status="NEW",
    )
    session.add(lead)
    await session.flush()
    await record_event(session, "lead.created", "Lead", lead.id, {"name": lead.name}, actor)
    await session.refresh(lead)
    return lead


async def _add_opportunity(
    session: AsyncSession,
    *,
    customer_id: int,
    name: str,
    stage: str,
    probability: int | None,
    amount: Decimal,
    expected_close_date: date | None,
    owner: str | None,
    lines: Sequence[tuple[int, Decimal, Decimal]] = (),
    actor: str | None,
) -> Opportunity:
    opportunity = Opportunity(
        customer_id=customer_id, name=name.strip(), stage=stage,
        probability=DEFAULT_PROBABILITY[stage] if probability is None else probability,
        amount=amount, expected_close_date=expected_close_date, owner=owner,
    )
    session.add(opportunity)
    await session.flush()
    session.add_all(
        LineRow(opportunity_id=opportunity.id, position=i, item_id=item_id, quantity=q, unit_price=p)
        for i, (item_id, q, p) in enumerate(lines)
    )
    session.add(StageChange(opportunity_id=opportunity.id, stage=stage))
    await session.flush()
    await record_event(
        session, "opportunity.created", "Opportunity", opportunity.id,
        {"customerId": customer_id, "stage": stage, "amount": str(amount)}, actor,
    )
    await session.refresh(opportunity)
    return opportunity


async def create_opportunity(
    session: AsyncSession, data: NewOpportunity, actor: str | None = None
) -> Opportunity:
    problems = Problems()
    check_text(problems, data.name, "name", required=True)
    check_text(problems, data.owner, "owner", max_length=120)
    _check_stage(problems, data.stage, "stage")
    _check_probability(problems, data.probability, "probability")
    check_decimal(problems, data.amount, "amount", places=2, non_negative=True, label="amount")
    check_line_count(problems, data.lines)
    for i, line in enumerate(data.lines):
        check_decimal(problems, line.quantity, "lines", str(i), "quantity", places=6, positive=True,
                      label="quantity")
        check_decimal(problems, line.unit_price, "lines", str(i), "unitPrice", places=4,
                      non_negative=True, label="unitPrice")
    problems.raise_if_any()

    if await session.get(Customer, data.customer_id) is None:
        problems.add(ErrorCode.NOT_FOUND, "customer not found", "customerId")
    item_ids = {line.item_id for line in data.lines}
    prices: dict[int, Decimal] = {}
    if item_ids:
        rows = await session.execute(select(Item.id, Item.list_price).where(Item.id.in_(item_ids)))
        prices = {row.id: row.list_price for row in rows}
    for i, line in enumerate(data.lines):
        if line.item_id not in prices:
            problems.add(ErrorCode.NOT_FOUND, "item not found", "lines", str(i), "itemId")
    problems.raise_if_any()

    lines = [
        (line.item_id, line.quantity, prices[line.item_id] if line.unit_price is None else line.unit_price)
        for line in data.lines
    ]
    amount = data.amount
    if amount is None:
        amount = lines_amount((q, p) for _, q, p in lines)
        check_decimal(problems, amount, "lines", places=2, label="amount of the lines")
        problems.raise_if_any()
    return await _add_opportunity(
        session, customer_id=data.customer_id, name=data.name, stage=data.stage or "PROSPECTING",
        probability=data.probability, amount=amount, expected_close_date=data.expected_close_date,
        owner=data.owner, lines=lines, actor=actor,
    )


async def move_opportunity(
    session: AsyncSession, opportunity_id: int, stage: str, probability: int | None = None,
    actor: str | None = None,
) -> Opportunity:
    """Enter ``stage`` with ``probability`` or the stage's default; record the stage change.

    Moving to the current stage only changes the probability (when given). WON and
    LOST are final: only :func:`reopen_opportunity` moves an opportunity out of them.
    """
    problems = Problems()
    _check_stage(problems, stage, "stage")
    _check_probability(problems, probability, "probability")
    problems.raise_if_any()
    opportunity = await _locked(session, opportunity_id)
    previous = opportunity.stage
    if previous in CLOSED:
        raise DomainError.one(
            ErrorCode.INVALID_STATE,
            f"a {previous} opportunity is final; reopenOpportunity moves it back to an open stage",
            ["id"],
        )
    if stage == previous:
        if probability is not None:
            opportunity.probability = probability
        return await _recorded(session, opportunity, "opportunity.moved", previous, actor)
    return await _enter(session, opportunity, stage, probability, "opportunity.moved", actor)


async def reopen_opportunity(
    session: AsyncSession, opportunity_id: int, stage: str, actor: str | None = None
) -> Opportunity:
    """Move a WON or LOST opportunity back to the open ``stage``, at that stage's default probability.

    The reopening is a stage change like any other in the history (so a deal that was
    WON and is then LOST no longer counts as converted) and writes ``opportunity.reopened``.
    """
    problems = Problems()
    _check_stage(problems, stage, "stage")
    if stage in CLOSED:
        problems.invalid("an opportunity is reopened to an open stage, not WON or LOST", "stage")
    problems.raise_if_any()
    opportunity = await _locked(session, opportunity_id)
    previous = opportunity.stage
    if previous not in CLOSED:
        raise DomainError.one(
            ErrorCode.INVALID_STATE,
            f"only a WON or LOST opportunity is reopened; this one is {previous} (use moveOpportunity)",
            ["id"],
        )
    return await _enter(session, opportunity, stage, None, "opportunity.reopened", actor)


async def _enter(
    session: AsyncSession, opportunity: Opportunity, stage: str, probability: int | None, event: str,
    actor: str | None,
) -> Opportunity:
    """The opportunity enters ``stage`` (in its history) at ``probability`` or the stage's default."""
    previous = opportunity.stage
    opportunity.stage = stage
    opportunity.probability = DEFAULT_PROBABILITY[stage] if probability is None else probability
    session.add(StageChange(opportunity_id=opportunity.id, stage=stage))
    return await _recorded(session, opportunity, event, previous, actor)


async def _recorded(
    session: AsyncSession, opportunity: Opportunity, event: str, previous: str, actor: str | None
) -> Opportunity:
    await session.flush()
    await record_event(
        session, event, "Opportunity", opportunity.id,
        {"from": previous, "to": opportunity.stage, "probability": opportunity.probability}, actor,
    )
    await session.refresh(opportunity)
    return opportunity


async def _locked(session: AsyncSession, opportunity_id: int) -> Opportunity:
    opportunity = await session.get(Opportunity, opportunity_id, with_for_update=True)
    if opportunity is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "opportunity not found", ["id"])
    return opportunity


async def log_activity(session: AsyncSession, data: NewActivity, actor: str | None = None) -> Activity:
    problems = Problems()
    if data.kind not in ACTIVITY_KINDS:
        problems.invalid(f"unknown activity kind {data.kind!r}", "kind")
    check_text(problems, data.subject, "subject", required=True)
    check_text(problems, data.notes, "notes", max_length=10_000)
    problems.raise_if_any()
    if await session.get(Opportunity, data.opportunity_id) is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "opportunity not found", ["opportunityId"])

    activity = Activity(
        opportunity_id=data.opportunity_id, kind=data.kind, subject=data.subject.strip(),
        notes=data.notes, due_at=data.due_at,
    )
    session.add(activity)
    await session.flush()
    await record_event(
        session, "activity.logged", "Activity", activity.id,
        {"opportunityId": data.opportunity_id, "kind": data.kind}, actor,
    )
    await session.refresh(activity)
    return activity


def _conversion_field(problem: Problem) -> Problem:
    """The customer is built from the lead: only its code comes from the input."""
    field = ("customerCode",) if problem.field == ("code",) else ("id",)
    return Problem(problem.code, problem.message, field)


@dataclass(frozen=True)
class Conversion:
    lead: Lead
    customer: Customer
    opportunity: Opportunity


async def convert_lead(
    session: AsyncSession, lead_id: int, data: LeadConversion, actor: str | None = None
) -> Conversion:
    """Create the customer (with the lead's person as its contact) and the opportunity from a lead.

    All in the caller's transaction.
    """
    problems = Problems()
    code = data.customer_code.strip()
    if not CODE.match(code) or len(code) > 40:
        problems.invalid("code must be 1-40 letters, digits, '.', '_' or '-'", "customerCode")
    check_text(problems, data.opportunity_name, "opportunityName", required=True)
    check_decimal(problems, data.amount, "amount", places=2, non_negative=True, label="amount")
    problems.raise_if_any()
    lead = await session.get(Lead, lead_id, with_for_update=True)
    if lead is None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "lead not found", ["id"])
    if lead.status not in CONVERTIBLE:
        raise DomainError.one(
            ErrorCode.INVALID_STATE,
            f"a {lead.status} lead cannot be converted"
            + ("; qualifyLead brings it back first" if lead.status == "DISQUALIFIED" else ""),
            ["id"],
        )

    try:
        customer = await create_customer(session, NewCustomer(
            code=data.customer_code, name=lead.company or lead.name, email=lead.email, phone=lead.phone,
            contacts=[NewContact(name=lead.name, email=lead.email, phone=lead.phone)],
        ), actor)
    except DomainError as error:
        raise DomainError([_conversion_field(p) for p in error.problems]) from None
    opportunity = await _add_opportunity(
        session, customer_id=customer.id, name=data.opportunity_name, stage="PROSPECTING",
        probability=None, amount=data.amount if data.amount is not None else Decimal("0"),
        expected_close_date=data.expected_close_date, owner=lead.owner, actor=actor,
    )
    lead.status = "CONVERTED"
    lead.customer_id = customer.id
    lead.opportunity_id = opportunity.id
    await session.flush()
    await record_event(
        session, "lead.converted", "Lead", lead.id,
        {"customerId": customer.id, "opportunityId": opportunity.id}, actor,
    )
    await session.refresh(lead)
    return Conversion(lead, customer, opportunity)
