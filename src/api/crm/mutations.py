from __future__ import annotations

import strawberry

from api.crm.inputs import CustomerInput, CustomerUpdateInput
from api.crm.types import Customer, CustomerPayload
from api.permissions import Command, command
from api.relay import decode_id
from domain.crm import services
from domain.identity.scopes import Scope


@strawberry.type
class CrmMutation:
    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def create_customer(self, cmd: Command, input: CustomerInput) -> CustomerPayload:
        row = await services.create_customer(cmd.session, input.to_domain(), actor=cmd.actor)
        return CustomerPayload(customer=Customer.from_row(row))

    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def update_customer(
        self, cmd: Command, id: strawberry.ID, input: CustomerUpdateInput
    ) -> CustomerPayload:
        pk = decode_id(id, "Customer", "id")
        row = await services.update_customer(cmd.session, pk, input.changes(), actor=cmd.actor)
        return CustomerPayload(customer=Customer.from_row(row))
