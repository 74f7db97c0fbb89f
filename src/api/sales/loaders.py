"""DataLoaders of the sales context: quotes, orders, their lines and reservations, shipments."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from strawberry.dataloader import DataLoader

from api.dataloaders import counts_by, many_by, one_by, pages_by
from domain.sales.models import Quote, QuoteLine, SalesOrder, SalesOrderLine, Shipment, ShipmentLine
from domain.sales.reservations import reserved_by_line
from domain.sales.status_stream import StatusChange, histories
from domain.shared.db import SessionMaker


class SalesLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.order = one_by(sm, SalesOrder, SalesOrder.id)
        self.order_by_quote = one_by(sm, SalesOrder, SalesOrder.quote_id)
        self.order_lines = many_by(sm, SalesOrderLine, SalesOrderLine.order_id, SalesOrderLine.position)
        self.quote = one_by(sm, Quote, Quote.id)
        self.quote_lines = many_by(sm, QuoteLine, QuoteLine.quote_id, QuoteLine.position)
        self.customer_quotes = pages_by(sm, Quote, Quote.customer_id)
        self.customer_quote_count = counts_by(sm, Quote.customer_id)
        self.customer_orders = pages_by(sm, SalesOrder, SalesOrder.customer_id, SalesOrder.status)
        self.customer_order_count = counts_by(sm, SalesOrder.customer_id, SalesOrder.status)
        self.quotes_by_opportunity = many_by(sm, Quote, Quote.opportunity_id, Quote.id)
        self.reserved = self._reserved(sm)
        self.status_history = self._status_history(sm)
        self.shipment = one_by(sm, Shipment, Shipment.id)
        self.shipments_by_order = many_by(sm, Shipment, Shipment.order_id, Shipment.id)
        self.shipment_lines = many_by(sm, ShipmentLine, ShipmentLine.shipment_id, ShipmentLine.id)

    @staticmethod
    def _status_history(sm: SessionMaker) -> DataLoader[int, list[StatusChange]]:
        async def load(order_ids: Sequence[int]) -> list[list[StatusChange]]:
            async with sm() as session:
                found = await histories(session, order_ids)
            return [found[order_id] for order_id in order_ids]

        return DataLoader(load_fn=load)

    @staticmethod
    def _reserved(sm: SessionMaker) -> DataLoader[int, Decimal]:
        """What is reserved for each order line: the sum of its ledger moves."""

        async def load(line_ids: Sequence[int]) -> list[Decimal]:
            async with sm() as session:
                totals = await reserved_by_line(session, line_ids)
            return [totals.get(line_id) or Decimal(0) for line_id in line_ids]

        return DataLoader(load_fn=load)
