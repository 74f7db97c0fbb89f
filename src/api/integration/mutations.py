from __future__ import annotations

import strawberry
from sqlalchemy import select

from api.permissions import Command, command
from api.planning.types import Job, JobPayload
from api.relay import from_global_id
from domain.crm.models import Customer
from domain.identity.scopes import Scope
from domain.integration.erp import sync
from domain.inventory.models import Item
from domain.sales.models import SalesOrder
from domain.shared.errors import DomainError, ErrorCode

# the records the writeback writes, by their GraphQL type
_WRITTEN: dict[str, type[Customer] | type[Item] | type[SalesOrder]] = {
    "Customer": Customer, "Item": Item, "SalesOrder": SalesOrder,
}


@strawberry.type
class IntegrationMutation:
    @strawberry.mutation(description=(
        "Re-queues the ERP writeback of one record whose sync FAILED. "
        "Takes the id of a customer, an item or a confirmed order; runs one attempt now, whatever "
        "the record's sync status (a SYNCED one is looked up and brought up to date), and the job "
        "reports its outcome. Needs admin."
    ))
    @command(Scope.ADMIN)
    async def retry_sync(self, cmd: Command, id: strawberry.ID) -> JobPayload:
        system = cmd.settings.writeback_system
        if system is None:
            raise DomainError.one(
                ErrorCode.INVALID_STATE, "the ERP writeback is off (ERPGRAPH_TRYTON_URL is not set)", ("id",)
            )
        decoded = from_global_id(id)
        if decoded is None:
            raise DomainError.one(ErrorCode.INVALID, "is not a valid id", ("id",))
        type_name, pk = decoded
        model = _WRITTEN.get(type_name)
        if model is None:
            raise DomainError.one(
                ErrorCode.INVALID, "only customers, items and sales orders are written to the ERP", ("id",)
            )
        if await cmd.session.scalar(select(model.id).where(model.id == pk)) is None:
            raise DomainError.one(ErrorCode.NOT_FOUND, f"{type_name} not found", ("id",))
        job = await sync.retry(
            cmd.session, system, type_name, pk, actor=cmd.actor, queue_name=cmd.settings.queue_name
        )
        return JobPayload(job=Job.from_row(job))
