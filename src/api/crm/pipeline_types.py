from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.context import Info
from api.crm.types import Customer
from api.dataloaders import RowOf, present, present_all
from api.errors import UserError
from api.inventory.types import Item
from api.relay import Node
from domain.crm import models as m
from domain.crm.pipeline_rules import StageSummary, weighted_amount
from domain.inventory.models import Item as ItemRow

if TYPE_CHECKING:
    from api.sales.types import Quote


@strawberry.enum
class LeadStatus(Enum):
    NEW = "NEW"
    QUALIFIED = "QUALIFIED"
    DISQUALIFIED = "DISQUALIFIED"
    CONVERTED = "CONVERTED"


@strawberry.enum
class OpportunityStage(Enum):
    PROSPECTING = "PROSPECTING"
    QUALIFICATION = "QUALIFICATION"
    PROPOSAL = "PROPOSAL"
    NEGOTIATION = "NEGOTIATION"
    WON = "WON"
    LOST = "LOST"


@strawberry.enum
class ActivityKind(Enum):
    CALL = "CALL"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    NOTE = "NOTE"
    TASK = "TASK"


@strawberry.type
class Activity(Node):
    opportunity_pk: strawberry.Private[int]
    kind: ActivityKind
    subject: str
    notes: str | None
    due_at: datetime | None
    done_at: datetime | None = strawberry.field(description="When completeActivity marked it done.")
    outcome: str | None = strawberry.field(description="What came of it, given by completeActivity.")
    created_at: datetime

    @strawberry.field(description="Completed (doneAt is set).")
    def done(self) -> bool:
        return self.done_at is not None

    @strawberry.field
    async def opportunity(self, info: Info) -> Opportunity:
        row = present(await info.context.loaders.crm.opportunity.load(self.opportunity_pk))
        return Opportunity.from_row(row)

    @classmethod
    def from_row(cls, row: RowOf[m.Activity]) -> Activity:
        return cls(
            pk=row.id, opportunity_pk=row.opportunity_id, kind=ActivityKind(row.kind),
            subject=row.subject, notes=row.notes, due_at=row.due_at, done_at=row.done_at,
            outcome=row.outcome, created_at=row.created_at,
        )


@strawberry.type
class OpportunityLine:
    item_row: strawberry.Private[RowOf[ItemRow]]
    quantity: Decimal
    unit_price: Decimal

    @strawberry.field
    def item(self) -> Item:
        return Item.from_row(self.item_row)


@strawberry.type
class Opportunity(Node):
    customer_pk: strawberry.Private[int]
    name: str
    stage: OpportunityStage
    probability: int = strawberry.field(description="Win probability in percent, 0-100.")
    amount: Decimal
    expected_close_date: date | None
    owner: str | None
    created_at: datetime

    @strawberry.field(description="amount * probability / 100")
    def weighted_amount(self) -> Decimal:
        return weighted_amount(self.amount, self.probability)

    @strawberry.field
    async def customer(self, info: Info) -> Customer:
        return Customer.from_row(present(await info.context.loaders.crm.customer.load(self.customer_pk)))

    @strawberry.field
    async def lines(self, info: Info) -> list[OpportunityLine]:
        loaders = info.context.loaders
        rows = await loaders.crm.opportunity_lines.load(self.pk)
        items = present_all(await loaders.inventory.item.load_many([r.item_id for r in rows]))
        return [
            OpportunityLine(item_row=item, quantity=r.quantity, unit_price=r.unit_price)
            for r, item in zip(rows, items, strict=True)
        ]

    @strawberry.field
    async def quotes(self, info: Info) -> list[Annotated[Quote, strawberry.lazy("api.sales.types")]]:
        from api.sales.types import Quote

        rows = await info.context.loaders.sales.quotes_by_opportunity.load(self.pk)
        return [Quote.from_row(row) for row in rows]

    @strawberry.field
    async def activities(self, info: Info) -> list[Activity]:
        rows = await info.context.loaders.crm.activities.load(self.pk)
        return [Activity.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: RowOf[m.Opportunity]) -> Opportunity:
        return cls(
            pk=row.id, customer_pk=row.customer_id, name=row.name,
            stage=OpportunityStage(row.stage), probability=row.probability, amount=row.amount,
            expected_close_date=row.expected_close_date, owner=row.owner, created_at=row.created_at,
        )


@strawberry.type
class Lead(Node):
    customer_pk: strawberry.Private[int | None]
    opportunity_pk: strawberry.Private[int | None]
    name: str
    company: str | None
    email: str | None
    phone: str | None
    source: str | None
    status: LeadStatus
    disqualification_reason: str | None = strawberry.field(
        description="Why it was last disqualified (kept when it is qualified again)."
    )
    owner: str | None
    created_at: datetime

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        if self.customer_pk is None:
            return None
        row = await info.context.loaders.crm.customer.load(self.customer_pk)
        return None if row is None else Customer.from_row(row)

    @strawberry.field
    async def opportunity(self, info: Info) -> Opportunity | None:
        if self.opportunity_pk is None:
            return None
        row = await info.context.loaders.crm.opportunity.load(self.opportunity_pk)
        return None if row is None else Opportunity.from_row(row)

    @classmethod
    def from_row(cls, row: RowOf[m.Lead]) -> Lead:
        return cls(
            pk=row.id, customer_pk=row.customer_id, opportunity_pk=row.opportunity_id,
            name=row.name, company=row.company, email=row.email, phone=row.phone,
            source=row.source, status=LeadStatus(row.status),
            disqualification_reason=row.disqualification_reason, owner=row.owner,
            created_at=row.created_at,
        )


@strawberry.type(
    description=(
        "One row of the sales funnel: open opportunities in a stage, and how many of those "
        "that ever reached the stage went on to the next."
    )
)
class PipelineStage:
    stage: OpportunityStage
    count: int
    amount: Decimal
    weighted_amount: Decimal
    conversion_rate: float | None = strawberry.field(description=(
        "Share (0-1) of the opportunities that ever reached this stage and went on to WON: "
        "those WON now, over all that reached it (open ones count as not won yet; one WON, "
        "reopened and LOST counts as not won); null when none reached it."
    ))

    @classmethod
    def from_summary(cls, row: StageSummary) -> PipelineStage:
        return cls(
            stage=OpportunityStage(row.stage), count=row.count, amount=row.amount,
            weighted_amount=row.weighted_amount, conversion_rate=row.conversion_rate,
        )


@strawberry.type
class LeadPayload:
    lead: Lead | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConvertLeadPayload:
    lead: Lead | None = None
    customer: Customer | None = None
    opportunity: Opportunity | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OpportunityPayload:
    opportunity: Opportunity | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ActivityPayload:
    activity: Activity | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
