"""DataLoaders of receivables: invoices, payments, credit positions, invoice pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from api.loaders import many_by, one_by
from domain.finance.credit import CreditPosition
from domain.finance.exposure import credit_positions
from domain.finance.models import Invoice, Payment

Statuses = tuple[str, ...] | None
# (customer id, statuses or None for all, page size, id after which the page starts)
PageKey = tuple[int, Statuses, int, int | None]


class FinanceLoaders:
    def __init__(self, sm: async_sessionmaker) -> None:
        self.invoice = one_by(sm, Invoice, Invoice.id)
        self.payment = one_by(sm, Payment, Payment.id)
        self.invoices_by_order = many_by(sm, Invoice, Invoice.order_id, Invoice.id)
        self.credit = self._credit(sm)
        self.customer_invoice_page = self._customer_page(sm)
        self.customer_invoice_count = self._customer_count(sm)

    @staticmethod
    def _credit(sm: async_sessionmaker) -> DataLoader[int, CreditPosition | None]:
        async def load(keys: Sequence[int]) -> list[CreditPosition | None]:
            async with sm() as session:
                positions = await credit_positions(session, keys, date.today())
            return [positions.get(key) for key in keys]

        return DataLoader(load_fn=load)

    @staticmethod
    def _customer_page(sm: async_sessionmaker) -> DataLoader[PageKey, list[Any]]:
        """A keyset page (one row more than asked) of each customer's invoices.

        One statement per distinct (statuses, size, after), whatever the number of customers.
        """

        async def load(keys: Sequence[PageKey]) -> list[list[Any]]:
            groups: dict[tuple[Statuses, int, int | None], set[int]] = defaultdict(set)
            for customer_id, statuses, size, after in keys:
                groups[(statuses, size, after)].add(customer_id)
            pages: dict[PageKey, list[Any]] = defaultdict(list)
            table = Invoice.__table__
            async with sm() as session:
                for (statuses, size, after), customers in groups.items():
                    ranked = select(
                        table,
                        func.row_number()
                        .over(partition_by=table.c.customer_id, order_by=table.c.id)
                        .label("rank"),
                    ).where(table.c.customer_id.in_(customers))
                    if statuses is not None:
                        ranked = ranked.where(table.c.status.in_(statuses))
                    if after is not None:
                        ranked = ranked.where(table.c.id > after)
                    inner = ranked.subquery()
                    stmt = (
                        select(*(inner.c[c.name] for c in table.columns))
                        .where(inner.c.rank <= size + 1)
                        .order_by(inner.c.customer_id, inner.c.id)
                    )
                    for row in await session.execute(stmt):
                        pages[(row.customer_id, statuses, size, after)].append(row)
            return [pages.get(key, []) for key in keys]

        return DataLoader(load_fn=load)

    @staticmethod
    def _customer_count(sm: async_sessionmaker) -> DataLoader[tuple[int, Statuses], int]:
        async def load(keys: Sequence[tuple[int, Statuses]]) -> list[int]:
            groups: dict[Statuses, set[int]] = defaultdict(set)
            for customer_id, statuses in keys:
                groups[statuses].add(customer_id)
            counts: dict[tuple[int, Statuses], int] = {}
            async with sm() as session:
                for statuses, customers in groups.items():
                    stmt = (
                        select(Invoice.customer_id, func.count())
                        .where(Invoice.customer_id.in_(customers))
                        .group_by(Invoice.customer_id)
                    )
                    if statuses is not None:
                        stmt = stmt.where(Invoice.status.in_(statuses))
                    for customer_id, count in await session.execute(stmt):
                        counts[(customer_id, statuses)] = count
            return [counts.get(key, 0) for key in keys]

        return DataLoader(load_fn=load)
