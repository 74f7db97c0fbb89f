"""Builders shared by the quote, order and confirmation tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from api.relay import from_global_id
from domain.finance.models import Invoice
from domain.inventory.models import ItemValuation, StockBalance, StockMove
from domain.sales.models import Quote, QuoteLine, SalesOrder, SalesOrderLine
from domain.shared.events import DomainEvent

ORDER_FIELDS = """
  id number status currency requestedDate promisedDate subtotal taxTotal total creditHoldReason
  customer { code } quote { number }
  lines { id item { sku } quantity unitPrice discountPercent taxRate lineTotal
          reservedQuantity shippedQuantity backorderedQuantity promisedDate }
"""
ERRORS = "errors { code field message }"

CREATE_ORDER = (
    "mutation($input: SalesOrderInput!) { createSalesOrder(input: $input) { order {"
    + ORDER_FIELDS + "} " + ERRORS + " } }"
)
CONFIRM = "mutation($id: ID!) { confirmSalesOrder(id: $id) { order {" + ORDER_FIELDS + "} " + ERRORS + " } }"
RELEASE = (
    "mutation($id: ID!, $note: String!) { releaseCreditHold(id: $id, note: $note) { order {"
    + ORDER_FIELDS + "} " + ERRORS + " } }"
)
CANCEL = (
    "mutation($id: ID!, $reason: String!) { cancelSalesOrder(id: $id, reason: $reason) { order {"
    + ORDER_FIELDS + "} " + ERRORS + " } }"
)
CREATE_CUSTOMER = """
mutation($input: CustomerInput!) { createCustomer(input: $input) { customer { id } errors { code } } }"""


def pk(global_id: str) -> int:
    decoded = from_global_id(global_id)
    assert decoded is not None
    return decoded[1]


async def create_customer(gql: Any, code: str, credit_limit: str = "0", terms: int = 30) -> str:
    body = await gql(CREATE_CUSTOMER, {"input": {
        "code": code, "name": f"Customer {code}", "creditLimit": credit_limit, "paymentTermsDays": terms,
    }})
    assert body["data"]["createCustomer"]["errors"] == [], body
    return str(body["data"]["createCustomer"]["customer"]["id"])


async def create_order(gql: Any, customer_id: str, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    body = await gql(CREATE_ORDER, {"input": {"customerId": customer_id, "lines": lines} | extra})
    return dict(body["data"]["createSalesOrder"])


async def draft(gql: Any, customer_id: str, item_id: str, quantity: str = "1", **line: Any) -> str:
    payload = await create_order(gql, customer_id, [{"itemId": item_id, "quantity": quantity} | line])
    assert payload["errors"] == [], payload
    return str(payload["order"]["id"])


async def confirm(gql: Any, order_id: str) -> dict[str, Any]:
    return dict((await gql(CONFIRM, {"id": order_id}))["data"]["confirmSalesOrder"])


async def add_invoice(sessionmaker: Any, customer_id: str, total: str, days_overdue: int) -> None:
    due = date.today() - timedelta(days=days_overdue)
    async with sessionmaker.begin() as s:
        s.add(Invoice(number=f"INV-T{days_overdue:04d}{total}", customer_id=pk(customer_id),
                      issue_date=due - timedelta(days=30), due_date=due, total=Decimal(total)))


async def snapshot(sessionmaker: Any) -> dict[str, Any]:
    """Row counts and stock state: equal before and after a failed mutation."""
    async with sessionmaker() as s:
        counts = {
            model.__name__: await s.scalar(select(func.count()).select_from(model))
            for model in (Quote, QuoteLine, SalesOrder, SalesOrderLine, StockMove, DomainEvent, Invoice)
        }
        balances = (await s.execute(
            select(StockBalance.item_id, StockBalance.warehouse_id, StockBalance.on_hand,
                   StockBalance.reserved).order_by(StockBalance.item_id, StockBalance.warehouse_id)
        )).all()
        orders = (await s.execute(
            select(SalesOrder.id, SalesOrder.status, SalesOrder.promised_date).order_by(SalesOrder.id)
        )).all()
        quotes = (await s.execute(select(Quote.id, Quote.status).order_by(Quote.id))).all()
    return {"counts": counts, "balances": balances, "orders": orders, "quotes": quotes}


async def ledger_consistent(sessionmaker: Any) -> None:
    """Every balance equals the sum of its moves; reserved never exceeds on hand; every
    item's valuation holds its on-hand over all warehouses and the sum of its ledger values."""
    async with sessionmaker() as s:
        moves = dict(((r.item_id, r.warehouse_id), (r.oh, r.res)) for r in await s.execute(
            select(StockMove.item_id, StockMove.warehouse_id,
                   func.sum(StockMove.quantity_on_hand).label("oh"),
                   func.sum(StockMove.quantity_reserved).label("res"))
            .group_by(StockMove.item_id, StockMove.warehouse_id)
        ))
        for b in (await s.execute(select(StockBalance))).scalars():
            assert moves.get((b.item_id, b.warehouse_id), (0, 0)) == (b.on_hand, b.reserved)
            assert 0 <= b.reserved <= b.on_hand
        valued = {r.item_id: (r.oh, r.value) for r in await s.execute(
            select(StockMove.item_id, func.sum(StockMove.quantity_on_hand).label("oh"),
                   func.coalesce(func.sum(StockMove.value), 0).label("value"))
            .group_by(StockMove.item_id)
        )}
        valuations = {v.item_id: (v.quantity, v.value) for v in (await s.execute(select(ItemValuation))).scalars()}
        assert {k: v for k, v in valued.items() if v != (0, 0)} == {
            k: v for k, v in valuations.items() if v != (0, 0)
        }
