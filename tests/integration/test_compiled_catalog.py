"""The catalog's documents compile to the resolver path's bytes (issue 14): contacts, quotes,
shipments, invoices, payments, credit notes, suppliers, purchase and work orders.

Each query selects every field the catalog lists for its types, nested up to three levels,
and runs through both paths on the same seeded database for admin, sales (no cost fields),
a partner (fenced to its own customer) and a planner (purchasing without costs); a root
field a role may not use is left to the resolver path.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from api.compiled.catalog import NODE_SCOPES
from api.node import NODE_TYPES
from api.relay import from_global_id
from domain.crm.models import Contact, Customer
from domain.finance.models import CreditNote, Invoice, Payment
from domain.integration.models import ExternalRef
from domain.inventory.models import Item
from domain.production.models import WorkOrder, WorkOrderComponent
from domain.purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier
from domain.sales.models import Quote, QuoteLine, SalesOrder, SalesOrderLine, Shipment, ShipmentLine
from tests.integration.test_compiled_reads import _compiled
from tests.integration.test_compiled_reads import settings as settings  # the reference runs on the resolvers

# planner: purchasing without costing:read (a purchase order line's unitCost is null)
ROLES = ("admin", "sales", "partner", "planner")
EVERYONE = frozenset(ROLES)
PURCHASING = frozenset({"admin", "planner"})
PRODUCTION = frozenset({"admin", "sales", "planner"})

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
ITEM = "item { id sku name standardCost }"
CONTACT = "id name email phone title"
QUOTE = ("id number validUntil notes rejectionReason version subtotal taxTotal total createdAt __typename"
         f" lines {{ quantity unitPrice discountPercent taxRate lineTotal {ITEM} }}")
SHIPMENT = f"id number shippedAt carrier trackingNumber lines {{ quantity {ITEM} }}"
CREDIT_NOTE = "id number amount reason createdAt createdBy"
INVOICE = ("id number issueDate dueDate total paidAmount creditedAmount balance status"
           f" creditNotes {{ {CREDIT_NOTE} invoice {{ number }} customer {{ code }} }}")
ORDER = "id number status total"
SUPPLIER = f"id code name email phone paymentTermsDays active version contacts {{ {CONTACT} }}"
PO_LINE = f"id quantity receivedQuantity cancelledQuantity dueDate unitCost {ITEM}"

# (query, variables, the roles whose root fields compile); ``$a`` takes the end cursor of the
# query before it
QUERIES: list[tuple[str, dict[str, Any], frozenset[str]]] = [
    (CUSTOMER_QUOTES := "query($n: Int, $a: String) { customers { edges { node { id code"
     f" contacts {{ {CONTACT} }} quotes(first: $n, after: $a) {{ totalCount {PAGE_INFO} edges {{ cursor node {{"
     f" {QUOTE} customer {{ code }} salesOrder {{ {ORDER} quote {{ number }} shipments {{ number }}"
     " invoices { number } } } } } } } } }", {}, EVERYONE),
    (CUSTOMER_QUOTES, {"n": 1}, EVERYONE),
    (CUSTOMER_QUOTES, {"n": 0}, EVERYONE),
    (QUOTES := "query($n: Int, $a: String) { quotes(first: $n, after: $a) {"
     f" totalCount {PAGE_INFO} edges {{ cursor node {{ {QUOTE} customer {{ id code contacts {{ name }} }}"
     f" salesOrder {{ {ORDER} shipments {{ {SHIPMENT} salesOrder {{ number }} }} invoices {{ {INVOICE} }} }}"
     " } } } }", {"n": 2}, EVERYONE),
    (QUOTES, {"n": 2}, EVERYONE),  # the page after the first
    (f"{{ shipments {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {SHIPMENT}"
     f" salesOrder {{ {ORDER} customer {{ code }} quote {{ number customer {{ name }} }} }} }} }} }} }}",
     {}, EVERYONE),
    (INVOICES := "query($s: [InvoiceStatus!]) { invoices(status: $s) {"
     f" totalCount {PAGE_INFO} edges {{ cursor node {{ {INVOICE} customer {{ code contacts {{ name }} }}"
     f" salesOrder {{ {ORDER} invoices {{ number }} shipments {{ number }} }} }} }} }} }}", {}, EVERYONE),
    (INVOICES, {"s": ["PAID", "VOID"]}, EVERYONE),
    (INVOICES, {"s": []}, EVERYONE),
    (f"{{ salesOrders {{ edges {{ node {{ {ORDER} quote {{ {QUOTE} salesOrder {{ number }} }}"
     f" shipments {{ {SHIPMENT} salesOrder {{ number }} }} invoices {{ {INVOICE} salesOrder {{ number }} }}"
     " } } } }", {}, EVERYONE),
    ("{ payments { totalCount edges { node { id amount receivedOn reference __typename"
     f" customer {{ code contacts {{ {CONTACT} }} }} }} }} }} }}", {}, frozenset({"admin"})),
    (f"{{ suppliers(first: 5) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {SUPPLIER} }} }} }} }}", {},
     PURCHASING),
    (PURCHASE_ORDERS := "query($s: [PurchaseOrderStatus!]) { purchaseOrders(status: $s) { totalCount"
     f" edges {{ node {{ id number status subcontract supplier {{ {SUPPLIER} }} lines {{ {PO_LINE} }} }} }} }} }}",
     {}, PURCHASING),
    (PURCHASE_ORDERS, {"s": ["OPEN", "CANCELLED"]}, PURCHASING),
    (WORK_ORDERS := "query($s: [WorkOrderStatus!]) { workOrders(status: $s) { totalCount edges { node {"
     f" id number quantity completedQuantity status startDate dueDate {ITEM}"
     f" salesOrder {{ {ORDER} customer {{ code }} quote {{ number }} }}"
     f" components {{ requiredQuantity issuedQuantity {ITEM} }} }} }} }} }}", {}, PRODUCTION),
    (WORK_ORDERS, {"s": ["RELEASED"]}, PRODUCTION),
]

NODE = ("query($id: ID!, $ids: [ID!]!) { node(id: $id) { __typename id ...N } nodes(ids: $ids) { id ...N } }"
        " fragment N on Node { ... on Contact { name title } ... on Quote { number customer { code }"
        " lines { quantity } } ... on Invoice { number balance creditNotes { number } }"
        " ... on Payment { amount customer { code } } ... on CreditNote { number invoice { number status } }"
        " ... on Shipment { number lines { quantity } } ... on Supplier { code contacts { name } }"
        " ... on PurchaseOrder { number lines { id unitCost } } ... on WorkOrder { number components"
        " { requiredQuantity } } }")
IDS = ("{ customers { edges { node { id contacts { id } quotes { edges { node { id } } } } } }"
       " invoices { edges { node { id creditNotes { id } } } } payments { edges { node { id } } }"
       " shipments { edges { node { id } } } suppliers { edges { node { id contacts { id } } } }"
       " purchaseOrders { edges { node { id } } } workOrders { edges { node { id } } } }")


@pytest.mark.parametrize("role", ROLES)
async def test_the_catalogs_documents_compile_to_the_resolver_paths_bytes(
    gql: Any, sessionmaker: Any, make_token: Any, role: str
) -> None:
    await _seed(sessionmaker)
    token = await make_token(role, partner="shop" if role == "partner" else None)
    cursor = None
    for query, variables, roles in QUERIES:
        if "$a" in query:
            variables = variables | {"a": cursor}
        compiled = await _compiled(sessionmaker, token, query, variables)
        if role not in roles:
            assert compiled is None, query  # a root field the role may not use: FORBIDDEN there
            continue
        expected = (await gql(query, variables, token=token))["data"]
        assert compiled is not None, f"not compiled for {role}: {query}"
        assert compiled == _text(expected), (query, variables)
        assert next(iter(expected.values()))["edges"], query  # every page has rows to compare
        if role == "partner":  # the other customer's documents do not exist for it
            assert not {"C-ERP", "Björn", "Q-002", "SO-C1", "INV-C3", "CN-C0", "SH-C1"} & set(_strings(expected))
        cursor = _end_cursor(expected)


@pytest.mark.parametrize("role", ROLES)
async def test_every_node_type_of_the_catalog_compiles_to_the_resolver_paths_bytes(
    gql: Any, sessionmaker: Any, make_token: Any, role: str
) -> None:
    await _seed(sessionmaker)
    known = _ids((await gql(IDS))["data"])
    assert len(set(known)) == len(known) == 32
    token = await make_token(role, partner="shop" if role == "partner" else None)
    # node: one id of each type; nodes: every id (a supplier's contact, the other customer's documents)
    of_each_type = {from_global_id(global_id)[0]: global_id for global_id in reversed(known)}
    assert set(of_each_type) == set(NODE_SCOPES) - {"Item", "Warehouse", "SalesOrder"}  # test_compiled_reads.py's
    for global_id in of_each_type.values():
        variables = {"id": global_id, "ids": known}
        expected = (await gql(NODE, variables, token=token))["data"]
        compiled = await _compiled(sessionmaker, token, NODE, variables)
        assert compiled == _text(expected), global_id


async def test_what_the_catalog_leaves_to_the_resolvers_is_not_compiled(sessionmaker: Any, make_token: Any) -> None:
    token = await make_token("admin")
    for query in [
        # filters that read today's date, search, or decode an id that may not exist
        '{ quotes(status: [DRAFT]) { totalCount } }',
        '{ quotes(customerId: "Q3VzdG9tZXI6MQ==") { totalCount } }',
        '{ quotes(search: "Q") { totalCount } }',
        '{ shipments(orderId: "U2FsZXNPcmRlcjox") { totalCount } }',
        '{ shipments(customerId: "Q3VzdG9tZXI6MQ==") { totalCount } }',
        "{ invoices(overdueOnly: true) { totalCount } }",
        '{ payments(customerId: "Q3VzdG9tZXI6MQ==") { totalCount } }',
        '{ suppliers(search: "S") { totalCount } }',
        '{ purchaseOrders(supplierId: "U3VwcGxpZXI6MQ==") { totalCount } }',
        '{ purchaseOrders(itemId: "SXRlbTox") { totalCount } }',
        # computed in Python from today's date
        "{ quotes { edges { node { status } } } }",
        "{ invoices { edges { node { daysOverdue } } } }",
        # fields a scope guards (an error, or an object or list hidden) that the catalog cannot express
        "{ customers { edges { node { invoices { totalCount } } } } }",
        "{ customers { edges { node { creditNotes { totalCount } } } } }",
        "{ quotes { edges { node { opportunity { id } } } } }",
        "{ salesOrders { edges { node { workOrders { number } } } } }",
        "{ workOrders { edges { node { cost { totalCost } } } } }",
        "{ suppliers { edges { node { externalRefs { system } } } } }",
    ]:
        assert await _compiled(sessionmaker, token, query, {}) is None, query


def test_the_node_scopes_are_api_nodes() -> None:
    """A compiled ``node`` answers null where ``api.node`` does: by the same scope of each type."""
    assert NODE_SCOPES == {type_name: NODE_TYPES[type_name][0] for type_name in NODE_SCOPES}


def _text(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _strings(value: Any) -> list[str]:
    """Every string in an answer."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [found for each in value for found in _strings(each)]
    return [value] if isinstance(value, str) else []


def _end_cursor(value: Any) -> str | None:
    """The first ``endCursor`` of an answer (the next query pages on after it)."""
    if isinstance(value, dict):
        if value.get("endCursor") is not None:
            return str(value["endCursor"])
        value = list(value.values())
    if isinstance(value, list):
        return next((found for each in value if (found := _end_cursor(each)) is not None), None)
    return None


def _ids(value: Any) -> list[str]:
    """Every ``id`` in an answer, in order."""
    if isinstance(value, list):
        return [found for each in value for found in _ids(each)]
    if not isinstance(value, dict):
        return []
    own = [value["id"]] if "id" in value else []
    return own + [found for key, each in value.items() if key != "id" for found in _ids(each)]


# ------------------------------------------------------------------ seed

# (customer index, status, valid until, notes, rejection reason): customer 0 is the partner's
_QUOTES = [
    (0, "ACCEPTED", date(2026, 3, 31), "Ünïcødé ✓ \"quoted\"\n", None),
    (0, "DRAFT", None, None, None),
    (1, "REJECTED", date(2025, 1, 1), "tab\there", "Zu teuer — “too dear”"),
    (0, "SENT", date(2099, 12, 31), "", None),
    (1, "ACCEPTED", None, None, None),
]
# (customer, order index or None, status, total, paid, credited)
_INVOICES = [
    (0, 0, "OPEN", "119.00", "0", "0"),
    (0, 0, "PARTIALLY_PAID", "250.55", "100.25", "0"),
    (0, None, "PAID", "10.00", "10.00", "0"),
    (1, 1, "VOID", "50.00", "0", "50.00"),
    (1, None, "PAID", "99999999.99", "99999899.98", "100.01"),
]


async def _seed(sessionmaker: Any) -> None:
    async with sessionmaker.begin() as session:
        customers = [Customer(code="C-SHOP", name="Shop’s “own” GmbH"), Customer(code="C-ERP", name="Ötzi AG")]
        items = [
            Item(sku=f"CAT-{n}", name=["Würfel", 'Bolt "M8"', "Nut\tflat"][n], kind="FINISHED", procurement="BUY",
                 standard_cost=[D("7.1234"), None, D("0.0001")][n])
            for n in range(3)
        ]
        suppliers = [
            Supplier(code="SUP-1", name="Lieferant Ä", email=None, phone="+49 1", payment_terms_days=14),
            Supplier(code="SUP-2", name="Closed & co", email="s@example.com", active=False),
        ]
        session.add_all([*customers, *items, *suppliers])
        await session.flush()
        shop, erp = (c.id for c in customers)
        # the partner's customer, and one another system knows
        session.add_all([
            ExternalRef(entity_type="Customer", entity_id=shop, system="shop", external_id="S-1", status="SYNCED"),
            ExternalRef(entity_type="Customer", entity_id=erp, system="erp", external_id="E-1", status="SYNCED"),
        ])
        # contacts: in id order on both paths; a supplier's is hidden from a partner
        session.add_all([
            Contact(customer_id=shop, name="Zoë", email="z@example.com", phone=None, title="Einkäuferin"),
            Contact(customer_id=erp, name="Björn", email=None, phone="+46", title=None),
            Contact(supplier_id=suppliers[0].id, name="Supplier’s contact", title="Sales"),
            Contact(customer_id=shop, name="Второй", email=None, phone=None, title=None),
        ])

        quotes = []
        for n, (owner, status, valid_until, notes, reason) in enumerate(_QUOTES):
            quote = Quote(number=f"Q-{n:03d}", customer_id=customers[owner].id, status=status,
                          valid_until=valid_until, notes=notes, rejection_reason=reason,
                          subtotal=D("12.5") * n, tax_total=D("0.01") * n, total=D("12.51") * n)
            session.add(quote)
            await session.flush()
            quotes.append(quote)
            # positions written backwards: lines read in position order, not id order
            for position in reversed(range(n % 3 + 1)):
                session.add(QuoteLine(
                    quote_id=quote.id, position=position, item_id=items[(n + position) % 3].id,
                    quantity=D("2.125000") + position, unit_price=D("19.9900"), discount_percent=D("12.5"),
                    tax_rate=D("19"), line_total=D("37.17") + n, tax_amount=D("7.06"),
                ))

        # orders: from the accepted quotes, and one without
        orders = [
            SalesOrder(number="SO-C0", customer_id=shop, quote_id=quotes[0].id, status="PARTIALLY_SHIPPED",
                       total=D("369.55")),
            SalesOrder(number="SO-C1", customer_id=erp, quote_id=quotes[4].id, status="SHIPPED", total=D("50")),
            SalesOrder(number="SO-C2", customer_id=shop, status="CONFIRMED", total=D("0.01")),
        ]
        session.add_all(orders)
        await session.flush()
        lines = []
        for order in orders:
            for position in range(2):
                line = SalesOrderLine(order_id=order.id, position=position, item_id=items[position].id,
                                      quantity=D("3"), unit_price=D("10"), line_total=D("30"), tax_amount=D("0"),
                                      shipped_quantity=D("1.5") if order is not orders[2] else D(0))
                session.add(line)
                lines.append(line)
        await session.flush()

        for n, order in enumerate([orders[0], orders[1], orders[0]]):
            shipment = Shipment(
                number=f"SH-C{n}", order_id=order.id,
                shipped_at=datetime(2026, 4, 1 + n, 6, 30, 0, [123456, 0, 1][n], tzinfo=UTC),
                carrier=[None, "DHL — Übersee", "UPS"][n], tracking_number=[None, "1Z\"9", None][n],
            )
            session.add(shipment)
            await session.flush()
            order_lines = [line for line in lines if line.order_id == order.id]
            for line in reversed(order_lines[: n % 2 + 1]):
                session.add(ShipmentLine(shipment_id=shipment.id, order_line_id=line.id, item_id=line.item_id,
                                         quantity=D("0.750000") if n == 2 else D("1.5")))

        invoices = []
        for n, (owner, order, status, total, paid, credited) in enumerate(_INVOICES):
            invoice = Invoice(
                number=f"INV-C{n}", customer_id=customers[owner].id,
                order_id=None if order is None else orders[order].id, issue_date=date(2026, 4, 1 + n),
                due_date=date(2026, 5, 1 + n), total=D(total), paid_amount=D(paid), credited_amount=D(credited),
                status=status,
            )
            session.add(invoice)
            invoices.append(invoice)
        await session.flush()
        session.add_all([
            CreditNote(number="CN-C0", invoice_id=invoices[3].id, customer_id=erp, amount=D("30.00"),
                       reason="Beschädigt „kaputt“", created_by=None),
            CreditNote(number="CN-C1", invoice_id=invoices[3].id, customer_id=erp, amount=D("20.00"),
                       reason="rest", created_by="zoë"),
            CreditNote(number="CN-C2", invoice_id=invoices[0].id, customer_id=shop, amount=D("0.01"),
                       reason="\\ backslash", created_by="finance-user"),
            Payment(customer_id=shop, amount=D("110.25"), received_on=date(2026, 4, 20), reference="Überweisung 42"),
            Payment(customer_id=erp, amount=D("99999899.98"), received_on=date(2026, 4, 21), reference=None),
        ])

        purchase_orders = [
            PurchaseOrder(number="PO-C0", supplier_id=suppliers[0].id, status="OPEN"),
            PurchaseOrder(number="PO-C1", supplier_id=suppliers[1].id, status="CANCELLED", subcontract=True),
            PurchaseOrder(number="PO-C2", supplier_id=suppliers[0].id, status="PARTIALLY_RECEIVED"),
        ]
        session.add_all(purchase_orders)
        await session.flush()
        for n, order in enumerate(purchase_orders):
            for position in reversed(range(n + 1)):
                session.add(PurchaseOrderLine(
                    order_id=order.id, position=position, item_id=items[position].id, quantity=D("10.000001"),
                    received_quantity=D("2.5") if n == 2 else D(0), cancelled_quantity=D("10.000001") if n == 1
                    else D(0), unit_cost=None if position == 1 else D("12.3456"), due_date=date(2026, 6, 1 + n),
                ))

        work_orders = [
            WorkOrder(number="WO-C0", item_id=items[0].id, quantity=D("5"), completed_quantity=D("1.25"),
                      status="RELEASED", start_date=date(2026, 4, 2), due_date=date(2026, 4, 9),
                      sales_order_id=orders[0].id),
            WorkOrder(number="WO-C1", item_id=items[1].id, quantity=D("0.5"), status="PLANNED", start_date=None,
                      due_date=date(2026, 5, 1)),
            WorkOrder(number="WO-C2", item_id=items[0].id, quantity=D("2"), status="RELEASED",
                      due_date=date(2026, 5, 2), sales_order_id=orders[1].id),
        ]
        session.add_all(work_orders)
        await session.flush()
        for n, work_order in enumerate(work_orders):
            for position in reversed(range(n + 1)):
                session.add(WorkOrderComponent(
                    work_order_id=work_order.id, position=position, item_id=items[2 - position].id,
                    required_quantity=D("3.333333"), issued_quantity=D("1") if position else D(0),
                ))
