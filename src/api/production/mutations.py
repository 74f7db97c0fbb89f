from __future__ import annotations

from datetime import date

import strawberry

from api.permissions import Command, command
from api.production.inputs import ProductionReportInput, WorkOrderInput
from api.production.types import WorkOrder, WorkOrderPayload, WorkOrdersPayload
from api.relay import decode_id, decode_ids
from domain.identity.scopes import Scope
from domain.production import make_to_order, services


@strawberry.type
class ProductionMutation:
    @strawberry.mutation
    @command(Scope.PRODUCTION_WRITE)
    async def create_work_order(self, cmd: Command, input: WorkOrderInput) -> WorkOrderPayload:
        data = input.to_domain()
        row = await services.create_work_order(cmd.session, data, actor=cmd.actor, today=cmd.today)
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation(
        description="One work order per order line whose item is made in-house and not covered by stock."
    )
    @command(Scope.PRODUCTION_WRITE)
    async def create_work_orders_for_sales_orders(
        self, cmd: Command, order_ids: list[strawberry.ID]
    ) -> WorkOrdersPayload:
        pks = decode_ids(order_ids, "SalesOrder", "orderIds")
        rows = await make_to_order.create_work_orders_for_sales_orders(
            cmd.session, pks, today=cmd.today, actor=cmd.actor
        )
        return WorkOrdersPayload(work_orders=[WorkOrder.from_row(row) for row in rows])

    @strawberry.mutation
    @command(Scope.PRODUCTION_WRITE)
    async def release_work_order(self, cmd: Command, id: strawberry.ID) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        row = await services.release_work_order(cmd.session, pk, actor=cmd.actor)
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation(
        description="Kitted issue: issue all components still required (or fail with the shortages)."
    )
    @command(Scope.PRODUCTION_WRITE)
    async def issue_work_order_materials(self, cmd: Command, id: strawberry.ID) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        row = await services.issue_work_order_materials(cmd.session, pk, actor=cmd.actor)
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation
    @command(Scope.PRODUCTION_WRITE)
    async def report_production(self, cmd: Command, input: ProductionReportInput) -> WorkOrderPayload:
        report = input.to_domain()
        row = await services.report_production(cmd.session, report, actor=cmd.actor, today=cmd.today)
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation(
        description=(
            "Move an open work order's due date. Without startDate the start moves by as many days "
            "(one in progress keeps its start). Sales orders promised from it get new promised "
            "dates and an orderStatusChanged event saying why."
        )
    )
    @command(Scope.PRODUCTION_WRITE)
    async def reschedule_work_order(
        self, cmd: Command, id: strawberry.ID, due_date: date, start_date: date | None = None
    ) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        row = await services.reschedule_work_order(
            cmd.session, pk, due_date, start_date, today=cmd.today, actor=cmd.actor
        )
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation(
        description="Cancel a PLANNED or RELEASED work order with nothing issued or completed."
    )
    @command(Scope.PRODUCTION_WRITE)
    async def cancel_work_order(self, cmd: Command, id: strawberry.ID, reason: str) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        row = await services.cancel_work_order(cmd.session, pk, reason, today=cmd.today, actor=cmd.actor)
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation(description="COMPLETED → CLOSED.")
    @command(Scope.PRODUCTION_WRITE)
    async def close_work_order(self, cmd: Command, id: strawberry.ID) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        row = await services.close_work_order(cmd.session, pk, actor=cmd.actor)
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))
