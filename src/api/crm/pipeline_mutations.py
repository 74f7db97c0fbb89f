from __future__ import annotations

import strawberry

from api.context import Info
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
from api.permissions import command
from api.relay import decode_id
from domain.crm import pipeline
from domain.identity.scopes import Scope


@strawberry.type
class PipelineMutation:
    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def create_lead(self, info: Info, input: LeadInput) -> LeadPayload:
        async with info.context.sessionmaker.begin() as session:
            row = await pipeline.create_lead(session, input.to_domain(), actor=info.context.viewer.name)
        return LeadPayload(lead=Lead.from_row(row))

    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def convert_lead(
        self, info: Info, id: strawberry.ID, input: ConvertLeadInput
    ) -> ConvertLeadPayload:
        pk = decode_id(id, "Lead", "id")
        async with info.context.sessionmaker.begin() as session:
            done = await pipeline.convert_lead(
                session, pk, input.to_domain(), actor=info.context.viewer.name
            )
        return ConvertLeadPayload(
            lead=Lead.from_row(done.lead),
            customer=Customer.from_row(done.customer),
            opportunity=Opportunity.from_row(done.opportunity),
        )

    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def create_opportunity(self, info: Info, input: OpportunityInput) -> OpportunityPayload:
        data = input.to_domain()
        async with info.context.sessionmaker.begin() as session:
            row = await pipeline.create_opportunity(session, data, actor=info.context.viewer.name)
        return OpportunityPayload(opportunity=Opportunity.from_row(row))

    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def move_opportunity(
        self, info: Info, id: strawberry.ID, stage: OpportunityStage, probability: int | None = None
    ) -> OpportunityPayload:
        pk = decode_id(id, "Opportunity", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await pipeline.move_opportunity(
                session, pk, stage.value, probability, actor=info.context.viewer.name
            )
        return OpportunityPayload(opportunity=Opportunity.from_row(row))

    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def log_activity(self, info: Info, input: ActivityInput) -> ActivityPayload:
        data = input.to_domain()
        async with info.context.sessionmaker.begin() as session:
            row = await pipeline.log_activity(session, data, actor=info.context.viewer.name)
        return ActivityPayload(activity=Activity.from_row(row))
