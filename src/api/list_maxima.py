"""The real maximum of each plain list field, for the query cost.

A plain list (``SalesOrder.lines``, ``Item.stock``) costs, in the limits' analysis, as
many items as it may hold. Counting each at ``ERPGRAPH_MAX_LINES`` (500) makes a page
of 100 items with their BOM lines and stock cost 100 × 500 × 500: every ordinary screen
would be refused. What a list may hold is what the data holds: the longest BOM, the
order with the most lines, the number of warehouses. ``ListMaxima`` reads those maxima
in one statement, at start-up and then every ``REFRESH_S`` seconds, and the cost uses
``min(real maximum, ERPGRAPH_MAX_LINES)`` (never less than 1).

Between two refreshes a document may grow past the maximum read (by at most
``ERPGRAPH_MAX_LINES`` lines, the domain's own bound): the cost then underestimates that
one list until the next refresh. Lists without a cheap maximum (pegging, planning
messages, status history, kitting lines) keep the bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from domain.crm.models import Activity, Contact, CreditLimitChange, OpportunityLine
from domain.finance.models import CreditNote, Invoice
from domain.integration.models import ExternalRef
from domain.integration.webhooks import WebhookDelivery
from domain.inventory.models import BomLine, Warehouse
from domain.production.models import WorkOrder, WorkOrderComponent
from domain.purchasing.models import PurchaseOrderLine
from domain.sales.models import Quote, QuoteLine, SalesOrderLine, Shipment, ShipmentLine
from domain.shared.db import SessionMaker

logger = logging.getLogger(__name__)

REFRESH_S: Final = 30.0


def _longest(*group_by: InstrumentedAttribute[Any]) -> ColumnElement[int]:
    """The most rows any one parent has (0 when none has any; rows without a parent, a
    NULL key, count for none)."""
    counts = select(func.count(group_by[-1]).label("n")).group_by(*group_by).subquery()
    return select(func.coalesce(func.max(counts.c.n), 0)).scalar_subquery()


def _all(column: InstrumentedAttribute[Any]) -> ColumnElement[int]:
    return select(func.count(column)).scalar_subquery()


_EXTERNAL_REFS = _longest(ExternalRef.entity_type, ExternalRef.entity_id)
_WAREHOUSES = _all(Warehouse.id)

# "Type.field" -> the longest that list is in the data
SOURCES: Final[Mapping[str, ColumnElement[int]]] = {
    "Bom.lines": _longest(BomLine.bom_item_id),
    "BomCost.lines": _longest(BomLine.bom_item_id),  # a line per BOM line
    "Item.whereUsed": _longest(BomLine.component_id),
    "Item.stock": _WAREHOUSES,  # a level per warehouse at most
    "Query.warehouses": _WAREHOUSES,
    "Customer.contacts": _longest(Contact.customer_id),
    "Supplier.contacts": _longest(Contact.supplier_id),
    "Customer.creditLimitHistory": _longest(CreditLimitChange.customer_id),
    "Customer.externalRefs": _EXTERNAL_REFS,
    "Supplier.externalRefs": _EXTERNAL_REFS,
    "SalesOrder.externalRefs": _EXTERNAL_REFS,
    "Invoice.creditNotes": _longest(CreditNote.invoice_id),
    "Opportunity.lines": _longest(OpportunityLine.opportunity_id),
    "Opportunity.quotes": _longest(Quote.opportunity_id),
    "Opportunity.activities": _longest(Activity.opportunity_id),
    "Quote.lines": _longest(QuoteLine.quote_id),
    "SalesOrder.lines": _longest(SalesOrderLine.order_id),
    "SalesOrder.shipments": _longest(Shipment.order_id),
    "SalesOrder.invoices": _longest(Invoice.order_id),
    "SalesOrder.workOrders": _longest(WorkOrder.sales_order_id),
    "Shipment.lines": _longest(ShipmentLine.shipment_id),
    "PurchaseOrder.lines": _longest(PurchaseOrderLine.order_id),
    "WorkOrder.components": _longest(WorkOrderComponent.work_order_id),
    # a delivery counts its attempts (at most ERPGRAPH_WEBHOOK_MAX_ATTEMPTS when made)
    "WebhookDelivery.attempts": select(func.coalesce(func.max(WebhookDelivery.attempts), 0)).scalar_subquery(),
}


class ListMaxima:
    """The latest maxima read; ``get`` is what the (synchronous) cost analysis calls."""

    def __init__(self) -> None:
        self._maxima: dict[str, int] = {}
        # raised whenever a maximum changes: compiled reads key their plans by it (the cost limit
        # may answer differently)
        self.version = 0

    def get(self, field: str) -> int | None:
        return self._maxima.get(field)

    def set(self, maxima: Mapping[str, int]) -> None:
        if dict(maxima) != self._maxima:
            self.version += 1
        self._maxima = dict(maxima)

    async def refresh(self, sessionmaker: SessionMaker) -> None:
        names = list(SOURCES)
        async with sessionmaker() as session:
            row = (await session.execute(select(*(SOURCES[name].label(f"m{i}") for i, name in enumerate(names))))).one()
        self.set({name: int(value) for name, value in zip(names, row, strict=True)})

    @contextlib.asynccontextmanager
    async def kept_fresh(self, sessionmaker: SessionMaker, every: float = REFRESH_S) -> AsyncIterator[None]:
        """Read now, then every ``every`` seconds in the background, until the block ends."""
        await self.refresh(sessionmaker)

        async def loop() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.refresh(sessionmaker)
                except Exception:  # a failed read keeps the previous maxima; try again later
                    logger.exception("reading the list maxima failed")

        task = asyncio.create_task(loop(), name="list-maxima")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.wait({task})
