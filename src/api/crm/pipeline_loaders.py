"""DataLoaders of the sales pipeline (leads, opportunities, their lines and activities)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from api.loaders import many_by, one_by
from domain.crm.models import Activity, Lead, Opportunity, OpportunityLine

# (customer id, page size, id after which the page starts)
PageKey = tuple[int, int, int | None]


class PipelineLoaders:
    def __init__(self, sm: async_sessionmaker) -> None:
        self.lead = one_by(sm, Lead, Lead.id)
        self.opportunity = one_by(sm, Opportunity, Opportunity.id)
        self.opportunity_lines = many_by(
            sm, OpportunityLine, OpportunityLine.opportunity_id, OpportunityLine.position
        )
        self.activity = one_by(sm, Activity, Activity.id)
        self.activities = many_by(sm, Activity, Activity.opportunity_id, Activity.id)
        self.customer_page = self._customer_page(sm)
        self.customer_count = self._customer_count(sm)

    @staticmethod
    def _customer_page(sm: async_sessionmaker) -> DataLoader[PageKey, list[Any]]:
        """A keyset page (one row more than asked) of each customer's opportunities.

        One statement per distinct (size, after) pair, whatever the number of customers.
        """

        async def load(keys: Sequence[PageKey]) -> list[list[Any]]:
            groups: dict[tuple[int, int | None], set[int]] = defaultdict(set)
            for customer_id, size, after in keys:
                groups[(size, after)].add(customer_id)
            pages: dict[PageKey, list[Any]] = defaultdict(list)
            table = Opportunity.__table__
            async with sm() as session:
                for (size, after), customers in groups.items():
                    ranked = select(
                        table,
                        func.row_number()
                        .over(partition_by=table.c.customer_id, order_by=table.c.id)
                        .label("rank"),
                    ).where(table.c.customer_id.in_(customers))
                    if after is not None:
                        ranked = ranked.where(table.c.id > after)
                    inner = ranked.subquery()
                    stmt = (
                        select(*(inner.c[c.name] for c in table.columns))
                        .where(inner.c.rank <= size + 1)
                        .order_by(inner.c.customer_id, inner.c.id)
                    )
                    for row in await session.execute(stmt):
                        pages[(row.customer_id, size, after)].append(row)
            return [pages.get(key, []) for key in keys]

        return DataLoader(load_fn=load)

    @staticmethod
    def _customer_count(sm: async_sessionmaker) -> DataLoader[int, int]:
        async def load(keys: Sequence[int]) -> list[int]:
            async with sm() as session:
                rows = await session.execute(
                    select(Opportunity.customer_id, func.count())
                    .where(Opportunity.customer_id.in_(keys))
                    .group_by(Opportunity.customer_id)
                )
                counts = {customer_id: count for customer_id, count in rows}
            return [counts.get(key, 0) for key in keys]

        return DataLoader(load_fn=load)
