from __future__ import annotations

import strawberry

from api.crm.pipeline_inputs import ActivityInput, ConvertLeadInput, LeadInput, OpportunityInput
from api.crm.pipeline_types import (
    Activity,
    ActivityPayload,
    ConvertLeadPayload,
    Lead,
    LeadPayload,
    Opportunity,
    OpportunityPayload,
    OpportunityStage,
)
from api.crm.types import Customer
from api.permissions import Command, command
from api.relay import decode_id
from domain.crm import pipeline, pipeline_lifecycle
from domain.identity.scopes import Scope


@strawberry.type
class PipelineMutation:
    @strawberry.mutation
    @command(Scope.PIPELINE_WRITE)
    async def create_lead(self, cmd: Command, input: LeadInput) -> LeadPayload:
        row = await pipeline.create_lead(cmd.session, input.to_domain(), actor=cmd.actor)
        return LeadPayload(lead=Lead.from_row(row))

    @strawberry.mutation(description=(
        "Creates a customer from the lead (its company, else its person's name), with the lead's "
        "person (name, email, phone) as the customer's contact, and a PROSPECTING opportunity."
    ))
    @command(Scope.PIPELINE_WRITE)
    async def convert_lead(
        self, cmd: Command, id: strawberry.ID, input: ConvertLeadInput
    ) -> ConvertLeadPayload:
        pk = decode_id(id, "Lead", "id")
        done = await pipeline.convert_lead(cmd.session, pk, input.to_domain(), actor=cmd.actor)
        return ConvertLeadPayload(
            lead=Lead.from_row(done.lead),
            customer=Customer.from_row(done.customer),
            opportunity=Opportunity.from_row(done.opportunity),
        )

    @strawberry.mutation
    @command(Scope.PIPELINE_WRITE)
    async def create_opportunity(self, cmd: Command, input: OpportunityInput) -> OpportunityPayload:
        data = input.to_domain()
        row = await pipeline.create_opportunity(cmd.session, data, actor=cmd.actor)
        return OpportunityPayload(opportunity=Opportunity.from_row(row))

    @strawberry.mutation(description=(
        "Moves an open opportunity to a stage (WON and LOST included); a WON or LOST one is final "
        "and only reopenOpportunity moves it."
    ))
    @command(Scope.PIPELINE_WRITE)
    async def move_opportunity(
        self, cmd: Command, id: strawberry.ID, stage: OpportunityStage, probability: int | None = None
    ) -> OpportunityPayload:
        pk = decode_id(id, "Opportunity", "id")
        row = await pipeline.move_opportunity(cmd.session, pk, stage.value, probability, actor=cmd.actor)
        return OpportunityPayload(opportunity=Opportunity.from_row(row))

    @strawberry.mutation(description=(
        "Moves a WON or LOST opportunity back to an open stage, at that stage's default "
        "probability; recorded in its stage history."
    ))
    @command(Scope.PIPELINE_WRITE)
    async def reopen_opportunity(
        self, cmd: Command, id: strawberry.ID, stage: OpportunityStage
    ) -> OpportunityPayload:
        pk = decode_id(id, "Opportunity", "id")
        row = await pipeline.reopen_opportunity(cmd.session, pk, stage.value, actor=cmd.actor)
        return OpportunityPayload(opportunity=Opportunity.from_row(row))

    @strawberry.mutation
    @command(Scope.PIPELINE_WRITE)
    async def log_activity(self, cmd: Command, input: ActivityInput) -> ActivityPayload:
        data = input.to_domain()
        row = await pipeline.log_activity(cmd.session, data, actor=cmd.actor)
        return ActivityPayload(activity=Activity.from_row(row))

    @strawberry.mutation(description=(
        "NEW or DISQUALIFIED → QUALIFIED (a disqualified lead may be qualified again); "
        "CONVERTED is final."
    ))
    @command(Scope.PIPELINE_WRITE)
    async def qualify_lead(self, cmd: Command, id: strawberry.ID) -> LeadPayload:
        pk = decode_id(id, "Lead", "id")
        row = await pipeline_lifecycle.qualify_lead(cmd.session, pk, actor=cmd.actor)
        return LeadPayload(lead=Lead.from_row(row))

    @strawberry.mutation(description=(
        "NEW or QUALIFIED → DISQUALIFIED with a reason; convertLead refuses a disqualified lead "
        "until qualifyLead brings it back."
    ))
    @command(Scope.PIPELINE_WRITE)
    async def disqualify_lead(self, cmd: Command, id: strawberry.ID, reason: str) -> LeadPayload:
        pk = decode_id(id, "Lead", "id")
        row = await pipeline_lifecycle.disqualify_lead(cmd.session, pk, reason, actor=cmd.actor)
        return LeadPayload(lead=Lead.from_row(row))

    @strawberry.mutation(description="Marks an open activity done now, with its outcome; once only.")
    @command(Scope.PIPELINE_WRITE)
    async def complete_activity(self, cmd: Command, id: strawberry.ID, outcome: str) -> ActivityPayload:
        pk = decode_id(id, "Activity", "id")
        row = await pipeline_lifecycle.complete_activity(cmd.session, pk, outcome, actor=cmd.actor)
        return ActivityPayload(activity=Activity.from_row(row))
