"""The partner fence: which customers, and which of their documents, a principal may see.

A partner token is bound to one integration name; its customers are those carrying an
``ExternalRef`` of that system (a customer a partner creates gets one). Every other row
of a fenced table (customers and the documents they own) does not exist for it: the
API's loaders (``api.dataloaders``), ``paginate`` and ``lookup`` (``api.relay``) add
:meth:`Fence.where` to their statements, and ``@command`` refuses a mutation naming a
hidden row with NOT_FOUND (``api.fence.check_ids``), the answer for a missing one. This
module is the one home of the rule; internal tokens have an open fence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, FromClause, Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.crm.models import Activity, Contact, CreditLimitChange, Customer, Lead, Opportunity
from domain.finance.models import CreditNote, Invoice, Payment
from domain.identity.services import Principal
from domain.integration.models import ExternalRef
from domain.planning.models import PlannedOrder
from domain.production.models import WorkOrder
from domain.sales.models import Quote, SalesOrder, Shipment
from domain.shared.db import SessionMaker

# the Session.info key under which a request's sessions carry its fence
SESSION_KEY = "fence"

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")
Rule = Callable[[FromClause, "Fence"], ColumnElement[bool]]


def _own(column: str) -> Rule:
    return lambda table, fence: table.c[column].in_(fence.customers())


def _of_orders(table: FromClause, fence: Fence) -> ColumnElement[bool]:
    orders = SalesOrder.__table__
    return table.c.order_id.in_(select(orders.c.id).where(orders.c.customer_id.in_(fence.customers())))


def _own_system(table: FromClause, fence: Fence) -> ColumnElement[bool]:
    # the keys it pushed in; never the ERP writeback's rows, whatever its name
    return (table.c.system == fence.partner) & ~table.c.writeback


def _hidden(table: FromClause, fence: Fence) -> ColumnElement[bool]:
    return false()


# Each fenced table and how its rows belong to a customer. Lines are reached only
# through their (fenced) document, so they need no rule of their own (REACHED_THROUGH_PARENT;
# tests/security/test_partner_fence_rules.py holds every customer-owned table to one or the other).
RULES: dict[str, Rule] = {
    Customer.__tablename__: _own("id"),
    Contact.__tablename__: _own("customer_id"),  # a supplier's contact has none: hidden
    Quote.__tablename__: _own("customer_id"),
    SalesOrder.__tablename__: _own("customer_id"),
    Shipment.__tablename__: _of_orders,
    Invoice.__tablename__: _own("customer_id"),
    Payment.__tablename__: _own("customer_id"),
    CreditNote.__tablename__: _own("customer_id"),
    CreditLimitChange.__tablename__: _own("customer_id"),  # besides needs credit:read
    # the pipeline is internal (and needs pipeline:read besides)
    Opportunity.__tablename__: _hidden,
    Lead.__tablename__: _hidden,
    Activity.__tablename__: _hidden,
    # a partner's own links only (another system's ids and sync errors are not its business)
    ExternalRef.__tablename__: _own_system,
    # production is internal too (kittingAnalysis reads work orders with sales:read)
    WorkOrder.__tablename__: _hidden,
    PlannedOrder.__tablename__: _hidden,  # planning: besides needs planning:read
}

# tables owned by a customer's document but read only through it (its lines, its history)
REACHED_THROUGH_PARENT = frozenset({
    "quote_lines", "sales_order_lines", "shipment_lines", "invoice_lines", "payment_allocations",
    "opportunity_lines", "opportunity_stage_changes", "work_order_components", "work_order_costs",
})


@dataclass(frozen=True, slots=True)
class Fence:
    """What one principal may see: everything (``partner`` None) or one partner's customers."""

    partner: str | None = None

    @property
    def open(self) -> bool:
        return self.partner is None

    def customers(self) -> Select[tuple[int]]:
        """Ids of the partner's customers (a subquery)."""
        refs = ExternalRef.__table__
        return select(refs.c.entity_id).where(
            refs.c.entity_type == "Customer", refs.c.system == self.partner, ~refs.c.writeback
        )

    def where(self, table: FromClause) -> ColumnElement[bool] | None:
        """The condition a row of ``table`` must meet to be visible, None when all are."""
        if self.partner is None:
            return None
        rule = RULES.get(getattr(table, "name", ""))
        return None if rule is None else rule(table, self)

    def apply(self, stmt: S, table: FromClause) -> S:
        condition = self.where(table)
        return stmt if condition is None else stmt.where(condition)

    async def sees(self, session: AsyncSession, table: FromClause, pk: int) -> bool:
        condition = self.where(table)
        if condition is None:
            return True
        found = await session.execute(select(table.c.id).where(table.c.id == pk, condition))
        return found.first() is not None

    async def sees_customer(self, session: AsyncSession, customer_id: int | None) -> bool:
        if customer_id is None:
            return self.open
        return await self.sees(session, Customer.__table__, customer_id)


OPEN = Fence()


def fence_for(principal: Principal | None) -> Fence:
    """The fence of a principal: its partner's customers, or everything for internal tokens."""
    partner = principal.partner if principal is not None else None
    return OPEN if partner is None else Fence(partner)


def fenced_sessionmaker(sm: SessionMaker, fence: Fence) -> SessionMaker:
    """``sm`` whose sessions carry ``fence`` (the loaders read it through :func:`fenced`)."""
    if fence.open:
        return sm
    kw = dict(sm.kw)
    kw["info"] = {**(kw.get("info") or {}), SESSION_KEY: fence}
    return async_sessionmaker(class_=sm.class_, **kw)


def fence_of(session: AsyncSession) -> Fence:
    """The fence the session was opened under (``api.context`` sets it per request)."""
    fence = session.info.get(SESSION_KEY)
    return fence if isinstance(fence, Fence) else OPEN


def fenced(session: AsyncSession, stmt: S, table: FromClause) -> S:
    """``stmt`` (rows of ``table``) narrowed to what the session's principal may see."""
    return fence_of(session).apply(stmt, table)
