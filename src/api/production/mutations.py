from __future__ import annotations

from datetime import date

import strawberry

from api.context import Info
from api.permissions import command
from api.production.inputs import ProductionReportInput, WorkOrderInput
from api.production.types import WorkOrder, WorkOrderPayload, WorkOrdersPayload
from api.relay import decode_id
from domain.identity.scopes import Scope
from domain.production import make_to_order, services


@strawberry.type
class ProductionMutation:
    @strawberry.mutation
    @command(Scope.PRODUCTION_WRITE)
    async def create_work_order(self, info: Info, input: WorkOrderInput) -> WorkOrderPayload:
        data = input.to_domain()
        async with info.context.sessionmaker.begin() as session:
            row = await services.create_work_order(
                session, data, actor=info.context.viewer.name, today=date.today()
            )
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation(
        description="One work order per order line whose item is made in-house and not covered by stock."
    )
    @command(Scope.PRODUCTION_WRITE)
    async def create_work_orders_for_sales_orders(
        self, info: Info, order_ids: list[strawberry.ID]
    ) -> WorkOrdersPayload:
        pks = [decode_id(order_id, "SalesOrder", "orderIds", str(i)) for i, order_id in enumerate(order_ids)]
        async with info.context.sessionmaker.begin() as session:
            rows = await make_to_order.create_work_orders_for_sales_orders(
                session, pks, today=date.today(), actor=info.context.viewer.name
            )
        return WorkOrdersPayload(work_orders=[WorkOrder.from_row(row) for row in rows])

    @strawberry.mutation
    @command(Scope.PRODUCTION_WRITE)
    async def release_work_order(self, info: Info, id: strawberry.ID) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await services.release_work_order(session, pk, actor=info.context.viewer.name)
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation(
        description="Kitted issue: issue all components still required (or fail with the shortages)."
    )
    @command(Scope.PRODUCTION_WRITE)
    async def issue_work_order_materials(self, info: Info, id: strawberry.ID) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await services.issue_work_order_materials(session, pk, actor=info.context.viewer.name)
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation
    @command(Scope.PRODUCTION_WRITE)
    async def report_production(self, info: Info, input: ProductionReportInput) -> WorkOrderPayload:
        report = input.to_domain()
        async with info.context.sessionmaker.begin() as session:
            row = await services.report_production(
                session, report, actor=info.context.viewer.name, today=date.today()
            )
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
        self, info: Info, id: strawberry.ID, due_date: date, start_date: date | None = None
    ) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await services.reschedule_work_order(
                session, pk, due_date, start_date, today=date.today(), actor=info.context.viewer.name
            )
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation(
        description="Cancel a PLANNED or RELEASED work order with nothing issued or completed."
    )
    @command(Scope.PRODUCTION_WRITE)
    async def cancel_work_order(self, info: Info, id: strawberry.ID, reason: str) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await services.cancel_work_order(
                session, pk, reason, today=date.today(), actor=info.context.viewer.name
            )
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))

    @strawberry.mutation(description="COMPLETED → CLOSED.")
    @command(Scope.PRODUCTION_WRITE)
    async def close_work_order(self, info: Info, id: strawberry.ID) -> WorkOrderPayload:
        pk = decode_id(id, "WorkOrder", "id")
        async with info.context.sessionmaker.begin() as session:
            row = await services.close_work_order(session, pk, actor=info.context.viewer.name)
        return WorkOrderPayload(work_order=WorkOrder.from_row(row))
