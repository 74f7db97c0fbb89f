from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from api.crm.pipeline_types import ActivityKind, OpportunityStage
from api.relay import decode_id
from domain.crm.pipeline import (
    LeadConversion,
    NewActivity,
    NewLead,
    NewOpportunity,
    NewOpportunityLine,
)


@strawberry.input
class LeadInput:
    name: str
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    source: str | None = None
    owner: str | None = None

    def to_domain(self) -> NewLead:
        return NewLead(
            name=self.name, company=self.company, email=self.email, phone=self.phone,
            source=self.source, owner=self.owner,
        )


@strawberry.input
class ConvertLeadInput:
    customer_code: str
    opportunity_name: str
    amount: Decimal | None = None
    expected_close_date: date | None = None

    def to_domain(self) -> LeadConversion:
        return LeadConversion(
            customer_code=self.customer_code, opportunity_name=self.opportunity_name,
            amount=self.amount, expected_close_date=self.expected_close_date,
        )


@strawberry.input
class OpportunityLineInput:
    item_id: strawberry.ID
    quantity: Decimal
    unit_price: Decimal | None = strawberry.field(
        default=None, description="Defaults to the item's list price."
    )


@strawberry.input
class OpportunityInput:
    customer_id: strawberry.ID
    name: str
    stage: OpportunityStage | None = None
    probability: int | None = None
    amount: Decimal | None = strawberry.field(
        default=None, description="Defaults to the sum of the lines (0 without lines)."
    )
    expected_close_date: date | None = None
    owner: str | None = None
    lines: list[OpportunityLineInput] | None = None

    def to_domain(self) -> NewOpportunity:
        return NewOpportunity(
            customer_id=decode_id(self.customer_id, "Customer", "customerId"),
            name=self.name,
            stage=self.stage.value if self.stage is not None else None,
            probability=self.probability,
            amount=self.amount,
            expected_close_date=self.expected_close_date,
            owner=self.owner,
            lines=[
                NewOpportunityLine(
                    item_id=decode_id(line.item_id, "Item", "lines", str(i), "itemId"),
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for i, line in enumerate(self.lines or [])
            ],
        )


@strawberry.input
class ActivityInput:
    opportunity_id: strawberry.ID
    kind: ActivityKind
    subject: str
    notes: str | None = None
    due_at: datetime | None = None

    def to_domain(self) -> NewActivity:
        return NewActivity(
            opportunity_id=decode_id(self.opportunity_id, "Opportunity", "opportunityId"),
            kind=self.kind.value, subject=self.subject, notes=self.notes, due_at=self.due_at,
        )
