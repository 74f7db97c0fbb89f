"""``Query.node`` / ``nodes`` / ``viewer``: any global id, resolved through the loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import strawberry
from strawberry.dataloader import DataLoader

from api.context import Info
from api.crm.pipeline_types import Activity, Lead, Opportunity
from api.crm.types import Contact, Customer
from api.dataloaders import M, RowOf
from api.finance.types import CreditNote, Invoice, Payment
from api.identity.types import Viewer
from api.inventory.types import Item, Warehouse
from api.loaders import Loaders
from api.permissions import can, checks
from api.planning.queries import load_job
from api.planning.types import MrpRun, PlannedOrder
from api.production.types import WorkOrder
from api.purchasing.supplier_types import Supplier
from api.purchasing.types import PurchaseOrder
from api.relay import Node, from_global_id
from api.sales.fulfilment import Shipment
from api.sales.types import Quote, SalesOrder
from domain.identity.scopes import Scope

Resolver = Callable[[Info, int], Awaitable[Node | None]]


def _via(
    loader: Callable[[Loaders], DataLoader[int, RowOf[M] | None]], convert: Callable[[RowOf[M]], Node]
) -> Resolver:
    async def resolve(info: Info, pk: int) -> Node | None:
        row = await loader(info.context.loaders).load(pk)
        return None if row is None else convert(row)

    return resolve


NODE_TYPES: dict[str, tuple[Scope, Resolver]] = {
    "Customer": (Scope.CRM_READ, _via(lambda ls: ls.crm.customer, Customer.from_row)),
    "Contact": (Scope.CRM_READ, _via(lambda ls: ls.crm.contact, Contact.from_row)),
    "Lead": (Scope.PIPELINE_READ, _via(lambda ls: ls.crm.lead, Lead.from_row)),
    "Opportunity": (Scope.PIPELINE_READ, _via(lambda ls: ls.crm.opportunity, Opportunity.from_row)),
    "Activity": (Scope.PIPELINE_READ, _via(lambda ls: ls.crm.activity, Activity.from_row)),
    "Item": (Scope.INVENTORY_READ, _via(lambda ls: ls.inventory.item, Item.from_row)),
    "Warehouse": (Scope.INVENTORY_READ, _via(lambda ls: ls.inventory.warehouse, Warehouse.from_row)),
    "SalesOrder": (Scope.SALES_READ, _via(lambda ls: ls.sales.order, SalesOrder.from_row)),
    "Quote": (Scope.SALES_READ, _via(lambda ls: ls.sales.quote, Quote.from_row)),
    # receivables: finance:read or sales:read, and every role with finance:read has sales:read
    "Invoice": (Scope.SALES_READ, _via(lambda ls: ls.finance.invoice, Invoice.from_row)),
    "Payment": (Scope.CREDIT_READ, _via(lambda ls: ls.finance.payment, Payment.from_row)),
    "CreditNote": (Scope.SALES_READ, _via(lambda ls: ls.finance.credit_note, CreditNote.from_row)),
    "Shipment": (Scope.SALES_READ, _via(lambda ls: ls.sales.shipment, Shipment.from_row)),
    "Supplier": (Scope.PURCHASING_READ, _via(lambda ls: ls.purchasing.supplier, Supplier.from_row)),
    "PurchaseOrder": (Scope.PURCHASING_READ, _via(lambda ls: ls.purchasing.order, PurchaseOrder.from_row)),
    "WorkOrder": (Scope.PRODUCTION_READ, _via(lambda ls: ls.production.work_order, WorkOrder.from_row)),
    "MrpRun": (Scope.PLANNING_READ, _via(lambda ls: ls.planning.run, MrpRun.from_row)),
    "PlannedOrder": (Scope.PLANNING_READ, _via(lambda ls: ls.planning.planned_order, PlannedOrder.from_row)),
    # who may see a job depends on its kind (load_job checks)
    "Job": (Scope.PLANNING_READ, load_job),
}


async def resolve_node(info: Info, global_id: str) -> Node | None:
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in NODE_TYPES:
        return None
    scope, resolve = NODE_TYPES[decoded[0]]
    if not can(info, scope):
        return None
    return await resolve(info, decoded[1])


@strawberry.type
class NodeQuery:
    @strawberry.field
    @checks(per_object=True)
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field
    @checks(per_object=True)
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        # gathered so the loaders batch; gather keeps the order of ids
        return list(await asyncio.gather(*(resolve_node(info, gid) for gid in ids)))

    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        return Viewer.from_principal(info.context.viewer)
