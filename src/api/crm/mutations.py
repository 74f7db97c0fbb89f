from __future__ import annotations

import strawberry

from api.crm.inputs import CustomerInput, CustomerUpdateInput
from api.crm.types import Customer, CustomerPayload
from api.permissions import Command, command
from api.relay import decode_id
from domain.crm import services
from domain.crm.external import upsert_customer
from domain.identity.scopes import Scope
from domain.shared.errors import DomainError, ErrorCode
from domain.shared.names import camel


@strawberry.type
class CrmMutation:
    @strawberry.mutation
    @command(Scope.CRM_WRITE)
    async def create_customer(self, cmd: Command, input: CustomerInput) -> CustomerPayload:
        if input.credit_limit is not None:
            cmd.require(Scope.FINANCE_WRITE, "creditLimit")
        row = await services.create_customer(
            cmd.session, input.to_domain(), actor=cmd.actor, partner=cmd.partner
        )
        return CustomerPayload(customer=Customer.from_row(row))

    @strawberry.mutation(description=(
        "Creates the customer an outside system knows as (system, externalId), or brings it up to the "
        "fields given (a null field keeps its value; codes never change). One customer per key, however "
        "often or concurrently it is sent; the same values again change nothing. A partner may use only "
        "its own system name; creditLimit needs finance:write."
    ))
    @command(Scope.CRM_WRITE)
    async def upsert_customer_by_external_ref(
        self, cmd: Command, system: str, external_id: str, input: CustomerInput
    ) -> CustomerPayload:
        if cmd.partner is not None and system.strip() != cmd.partner:
            raise DomainError.one(
                ErrorCode.FORBIDDEN, f"a partner token of {cmd.partner!r} may only use its own system name",
                ["system"],
            )
        if input.credit_limit is not None:
            cmd.require(Scope.FINANCE_WRITE, "creditLimit")
        row, _ = await upsert_customer(cmd.session, system, external_id, input.to_domain(), actor=cmd.actor)
        return CustomerPayload(customer=Customer.from_row(row))

    @strawberry.mutation(description=(
        "Changes the fields given. Needs crm:write, and finance:write for creditLimit "
        "(finance may change the credit limit alone)."
    ))
    @command(Scope.CRM_WRITE, Scope.FINANCE_WRITE)
    async def update_customer(
        self, cmd: Command, id: strawberry.ID, input: CustomerUpdateInput
    ) -> CustomerPayload:
        pk = decode_id(id, "Customer", "id")
        changes = input.changes()
        for key in changes:
            cmd.require(Scope.FINANCE_WRITE if key == "credit_limit" else Scope.CRM_WRITE, camel(key))
        row = await services.update_customer(
            cmd.session, pk, changes, actor=cmd.actor, expected_version=input.expected_version
        )
        return CustomerPayload(customer=Customer.from_row(row))
