from __future__ import annotations

import strawberry

from api.context import Info
from api.crm.inputs import CustomerInput, CustomerUpdateInput
from api.crm.types import Customer, CustomerPayload
from api.permissions import command
from api.relay import decode_id
from domain.crm import services
from domain.identity.scopes import Scope


@strawberry.type
class CrmMutation:
    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def create_customer(self, info: Info, input: CustomerInput) -> CustomerPayload:
        async with info.context.sessionmaker.begin() as session:
            row = await services.create_customer(
                session, input.to_domain(), actor=info.context.viewer.name
            )
        return CustomerPayload(customer=Customer.from_row(row))

    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def update_customer(
        self, info: Info, id: strawberry.ID, input: CustomerUpdateInput
    ) -> CustomerPayload:
        pk = decode_id(id, "Customer", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await services.update_customer(
                session, pk, input.changes(), actor=info.context.viewer.name
            )
        return CustomerPayload(customer=Customer.from_row(row))
