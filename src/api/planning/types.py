from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import strawberry
from sqlalchemy import select

from api.context import Info
from api.crm.pipeline_types import Opportunity
from api.dataloaders import RowOf, present
from api.enums import expose
from api.errors import UserError
from api.inventory.types import Item
from api.permissions import can, checks, visible_with
from api.production.types import WorkOrder
from api.purchasing.types import PurchaseOrder
from api.relay import Connection, Node, from_global_id, paginate
from api.sales.types import SalesOrder
from domain.identity.scopes import Scope
from domain.jobs.models import Job as JobRow
from domain.jobs.models import JobStatus
from domain.jobs.services import JobState
from domain.planning import models as m
from domain.planning.data import planned_order_number
from domain.shared.errors import DomainError, ErrorCode

# The domain's enum, served as the schema's (the domain stays strawberry-free).
expose(JobStatus, name="JobStatus")


@strawberry.enum
class PlannedOrderKind(Enum):
    PURCHASE = "PURCHASE"
    PRODUCTION = "PRODUCTION"
    SUBCONTRACT = "SUBCONTRACT"


@strawberry.enum
class PlannedOrderStatus(Enum):
    PLANNED = "PLANNED"
    FIRMED = "FIRMED"


@strawberry.enum
class DemandSource(Enum):
    SALES_ORDER = "SALES_ORDER"
    FORECAST = "FORECAST"
    SAFETY_STOCK = "SAFETY_STOCK"
    DEPENDENT = strawberry.enum_value("DEPENDENT", description="Component demand of a parent's planned or work order.")


@strawberry.type(description="A background job run by a worker (MRP, costing, ERP writeback, import).")
class Job(Node):
    kind: str
    status: JobStatus
    progress: float = strawberry.field(description="0-1")
    message: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: RowOf[JobRow] | JobState) -> Job:
        return cls(
            pk=row.id, kind=row.kind, status=JobStatus(row.status), progress=row.progress,
            message=row.message, error=row.error, created_at=row.created_at,
            started_at=row.started_at, finished_at=row.finished_at,
        )


@strawberry.type(description="A job queued by a mutation (runCosting, runCostRollup), or why none was queued.")
class JobPayload:
    job: Job | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PlanningMessage:
    item_pk: strawberry.Private[int | None]
    severity: str
    message: str
    code: str = strawberry.field(
        description="Stable code: LATE, NO_BOM, CYCLE, UNKNOWN_ITEM or BAD_LOT_SIZE."
    )

    @strawberry.field
    async def item(self, info: Info) -> Item | None:
        if self.item_pk is None:
            return None
        row = await info.context.loaders.inventory.item.load(self.item_pk)
        return None if row is None else Item.from_row(row)

    @classmethod
    def from_row(cls, row: RowOf[m.PlanningMessage]) -> PlanningMessage:
        return cls(item_pk=row.item_id, severity=row.severity, message=row.message, code=row.code)


@strawberry.type(description="Which demand a planned order covers, and how much of it.")
class Pegging:
    row: strawberry.Private[RowOf[m.Pegging]]
    source: DemandSource
    quantity: Decimal
    date: date

    @strawberry.field
    @visible_with(Scope.SALES_READ)
    async def sales_order(self, info: Info) -> SalesOrder | None:
        if self.row.sales_order_id is None:
            return None
        row = await info.context.loaders.sales.order.load(self.row.sales_order_id)
        return None if row is None else SalesOrder.from_row(row)

    @strawberry.field
    @visible_with(Scope.CRM_READ)
    async def opportunity(self, info: Info) -> Opportunity | None:
        if self.row.opportunity_id is None or not can(info, Scope.PIPELINE_READ):
            return None
        row = await info.context.loaders.crm.opportunity.load(self.row.opportunity_id)
        return None if row is None else Opportunity.from_row(row)

    @strawberry.field(description="The open work order whose components this demand is (source DEPENDENT).")
    @visible_with(Scope.PRODUCTION_READ)
    async def work_order(self, info: Info) -> WorkOrder | None:
        if self.row.work_order_id is None:
            return None
        row = await info.context.loaders.production.work_order.load(self.row.work_order_id)
        return None if row is None else WorkOrder.from_row(row)

    @strawberry.field
    async def parent(self, info: Info) -> PlannedOrder | None:
        if self.row.parent_planned_order_id is None:
            return None
        row = await info.context.loaders.planning.planned_order.load(self.row.parent_planned_order_id)
        return None if row is None else PlannedOrder.from_row(row)

    @classmethod
    def from_row(cls, row: RowOf[m.Pegging]) -> Pegging:
        return cls(row=row, source=DemandSource(row.source), quantity=row.quantity, date=row.date)


@strawberry.type
class PlannedOrder(Node):
    row: strawberry.Private[RowOf[m.PlannedOrder]]
    kind: PlannedOrderKind
    status: PlannedOrderStatus
    quantity: Decimal
    release_date: date = strawberry.field(description="Date the order must be placed/started: dueDate - leadTimeDays.")
    due_date: date

    @strawberry.field(description="The number planning messages name this order by, e.g. PL-000123.")
    def number(self) -> str:
        return planned_order_number(self.pk)

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.row.item_id)))

    @strawberry.field
    async def pegging(self, info: Info) -> list[Pegging]:
        return [Pegging.from_row(row) for row in await info.context.loaders.planning.pegging.load(self.pk)]

    @strawberry.field(description="The purchase or work order this planned order became when firmed.")
    @checks(Scope.PRODUCTION_READ, Scope.PURCHASING_READ, per_object=True)
    async def firmed_as(self, info: Info) -> Node | None:
        loaders = info.context.loaders
        if self.row.work_order_id is not None:
            if not can(info, Scope.PRODUCTION_READ):
                return None
            work_order = await loaders.production.work_order.load(self.row.work_order_id)
            return None if work_order is None else WorkOrder.from_row(work_order)
        if self.row.purchase_order_line_id is not None:
            if not can(info, Scope.PURCHASING_READ):
                return None
            line = await loaders.purchasing.order_line.load(self.row.purchase_order_line_id)
            order = None if line is None else await loaders.purchasing.order.load(line.order_id)
            return None if order is None else PurchaseOrder.from_row(order)
        return None

    @classmethod
    def from_row(cls, row: RowOf[m.PlannedOrder]) -> PlannedOrder:
        return cls(
            pk=row.id, row=row, kind=PlannedOrderKind(row.kind), status=PlannedOrderStatus(row.status),
            quantity=row.quantity, release_date=row.release_date, due_date=row.due_date,
        )


def item_filter(item_id: strawberry.ID | None) -> int | None:
    if item_id is None:
        return None
    decoded = from_global_id(item_id)
    if decoded is None or decoded[0] != "Item":
        raise DomainError.one(ErrorCode.INVALID, "is not an Item id", ["itemId"])
    return decoded[1]


async def planned_orders_page(
    info: Info, *, run_id: int | None, first: int | None, after: str | None,
    item_pk: int | None, kind: PlannedOrderKind | None,
) -> Connection[PlannedOrder]:
    stmt = select(m.PlannedOrder.__table__)
    if run_id is not None:
        stmt = stmt.where(m.PlannedOrder.run_id == run_id)
    if item_pk is not None:
        stmt = stmt.where(m.PlannedOrder.item_id == item_pk)
    if kind is not None:
        stmt = stmt.where(m.PlannedOrder.kind == kind.value)
    return await paginate(info, stmt, m.PlannedOrder.id, PlannedOrder.from_row, first=first, after=after)


@strawberry.type
class MrpRun(Node):
    row: strawberry.Private[RowOf[m.MrpRun]]
    start_date: date = strawberry.field(
        description="First day of the plan; demand and receipts before it count on this day."
    )
    horizon_days: int
    forecast_min_probability: int | None = strawberry.field(
        description="Opportunities at or above this probability count as demand (forecast)."
    )
    items_planned: int
    completed_at: datetime | None = strawberry.field(
        description="When the plan was saved; null while the run is queued or running, or when it failed."
    )

    @strawberry.field
    async def job(self, info: Info) -> Job:
        return Job.from_row(present(await info.context.loaders.planning.job.load(self.row.job_id)))

    @strawberry.field(
        description=(
            "This run's planned orders: all of them while it is the latest plan; once a later run "
            "has saved, only those that were firmed."
        )
    )
    async def planned_orders(
        self, info: Info, first: int | None = None, after: str | None = None,
        item_id: strawberry.ID | None = None, kind: PlannedOrderKind | None = None,
    ) -> Connection[PlannedOrder]:
        return await planned_orders_page(
            info, run_id=self.pk, first=first, after=after, item_pk=item_filter(item_id), kind=kind
        )

    @strawberry.field(
        description="Exceptions found while planning (late demand, release date in the past, missing BOM...)."
    )
    async def messages(self, info: Info) -> list[PlanningMessage]:
        return [PlanningMessage.from_row(row) for row in await info.context.loaders.planning.messages.load(self.pk)]

    @classmethod
    def from_row(cls, row: RowOf[m.MrpRun]) -> MrpRun:
        return cls(
            pk=row.id, row=row, start_date=row.start_date, horizon_days=row.horizon_days,
            forecast_min_probability=row.forecast_min_probability, items_planned=row.items_planned,
            completed_at=row.completed_at,
        )


@strawberry.type
class MrpRunPayload:
    run: MrpRun | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FirmPlannedOrdersPayload:
    purchase_orders: list[PurchaseOrder] = strawberry.field(default_factory=list)
    work_orders: list[WorkOrder] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)
