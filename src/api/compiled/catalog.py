"""What the compiler knows of the schema: which GraphQL fields are which SQL values.

Only what is listed here compiles; any other field makes the whole operation run on the
resolver path. Each value is written by SQL exactly as the resolver path writes it
(migration 0021's functions for decimals, date-times, ids and cursors), and each object
is a row of one table: ``{a}`` in an expression is that row's alias, ``{x}`` the related
row's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from domain.finance.models import BALANCE_SQL
from domain.identity.scopes import Scope


class Kind(Enum):
    TEXT = "text"  # String and enums: a JSON string
    INT = "int"
    BOOL = "bool"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    TEXT_LIST = "text_list"  # [String!]!


@dataclass(frozen=True)
class Value:
    """A scalar: an expression over the row (``{a}``), a column by default."""

    expression: str
    kind: Kind
    # the field is null for a viewer without this scope (``visible_with``), as on the resolver path
    hidden_without: Scope | None = None


@dataclass(frozen=True)
class One:
    """An object of ``type_name``: the row of its entity's table (alias ``{x}``) that ``where`` picks;
    null if none."""

    type_name: str
    where: str


@dataclass(frozen=True)
class Many:
    """A list of ``type_name``: the rows of its entity's table that ``where`` picks, in ``order``."""

    type_name: str
    where: str
    order: str


@dataclass(frozen=True)
class Connection:
    """A keyset connection of ``type_name`` in id order: the rows of its entity's table that
    ``where`` picks, paged per parent as ``api.relay.child_page`` pages them (``first``, ``after``).
    ``filters``: arguments that narrow the rows (see :class:`RootConnection`)."""

    type_name: str
    where: str
    filters: dict[str, str] = field(default_factory=dict)


Field = Value | One | Many | Connection


@dataclass(frozen=True)
class Entity:
    type_name: str
    table: str
    node: bool  # a Relay node: ``id`` is its global id
    fields: dict[str, Field] = field(default_factory=dict)


@dataclass(frozen=True)
class RootConnection:
    entity: str
    scope: Scope  # the root field needs it (else FORBIDDEN, which the resolver path reports)
    # arguments that narrow the rows: the condition on the row ``{x}`` with the argument's value
    # ``{v}`` (an enum's value; a list of them), left out while the argument is null or an empty
    # list, as the resolvers leave it out
    filters: dict[str, str] = field(default_factory=dict)
    # arguments the compiled path leaves to the resolvers (a search, an id that may not exist):
    # given, the operation runs there
    unplanned: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RootLookup:
    """``Query.customer(id, code)``: one row by its global id, else by a unique key; null if none."""

    entity: str
    scope: Scope
    keys: dict[str, str]  # argument -> column


@dataclass(frozen=True)
class RootList:
    """``Query.warehouses``: every row of an entity, in ``order`` (``{x}``: the row)."""

    entity: str
    scope: Scope
    order: str


def _columns(**kinds: Kind) -> dict[str, Field]:
    return {name: Value("{a}." + _snake(name), kind) for name, kind in kinds.items()}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


# sums over an item's stock balances, as Item.onHand / reserved / available add them up
def _stock_sum(expression: str) -> Value:
    return Value(f"(SELECT coalesce(sum({expression}), 0) FROM stock_balances s WHERE s.item_id = {{a}}.id)",
                 Kind.DECIMAL)


_CUSTOMER = One("Customer", "{x}.id = {a}.customer_id")
_ITEM = One("Item", "{x}.id = {a}.item_id")

ENTITIES: dict[str, Entity] = {entity.type_name: entity for entity in (
    Entity("Customer", "customers", True, _columns(
        code=Kind.TEXT, name=Kind.TEXT, email=Kind.TEXT, phone=Kind.TEXT, segment=Kind.TEXT,
        tags=Kind.TEXT_LIST, paymentTermsDays=Kind.INT, creditLimit=Kind.DECIMAL, version=Kind.INT,
        createdAt=Kind.DATETIME, updatedAt=Kind.DATETIME,
    ) | {
        "contacts": Many("Contact", "{x}.customer_id = {a}.id", "{x}.id"),
        "quotes": Connection("Quote", "{x}.customer_id = {a}.id"),
        "orders": Connection("SalesOrder", "{x}.customer_id = {a}.id",
                             {"status": "{x}.status = ANY({v})"}),
        # invoices and creditNotes need finance:read or sales:read (an error without): a child
        # connection cannot carry a scope yet
    }),
    Entity("Contact", "contacts", True, _columns(name=Kind.TEXT, email=Kind.TEXT, phone=Kind.TEXT, title=Kind.TEXT)),
    # status is left out: EXPIRED is computed from today's date (domain.sales.quotes.effective_status);
    # opportunity needs pipeline:read (null without) and Opportunity does not compile
    Entity("Quote", "quotes", True, {
        **_columns(
            number=Kind.TEXT, validUntil=Kind.DATE, notes=Kind.TEXT, rejectionReason=Kind.TEXT, version=Kind.INT,
            subtotal=Kind.DECIMAL, taxTotal=Kind.DECIMAL, total=Kind.DECIMAL, createdAt=Kind.DATETIME,
        ),
        "customer": _CUSTOMER,
        "lines": Many("QuoteLine", "{x}.quote_id = {a}.id", "{x}.position"),
        "salesOrder": One("SalesOrder", "{x}.quote_id = {a}.id"),  # quote_id is unique
    }),
    Entity("QuoteLine", "quote_lines", False, {
        **_columns(
            quantity=Kind.DECIMAL, unitPrice=Kind.DECIMAL, discountPercent=Kind.DECIMAL, taxRate=Kind.DECIMAL,
            lineTotal=Kind.DECIMAL,
        ),
        "item": _ITEM,
    }),
    Entity("SalesOrder", "sales_orders", True, {
        **_columns(
            number=Kind.TEXT, status=Kind.TEXT, currency=Kind.TEXT, requestedDate=Kind.DATE,
            promisedDate=Kind.DATE, subtotal=Kind.DECIMAL, taxTotal=Kind.DECIMAL, total=Kind.DECIMAL,
            creditHoldReason=Kind.TEXT, notes=Kind.TEXT, version=Kind.INT, createdAt=Kind.DATETIME,
            updatedAt=Kind.DATETIME,
        ),
        "customer": _CUSTOMER,
        "lines": Many("SalesOrderLine", "{x}.order_id = {a}.id", "{x}.position"),
        "quote": One("Quote", "{x}.id = {a}.quote_id"),
        "shipments": Many("Shipment", "{x}.order_id = {a}.id", "{x}.id"),
        "invoices": Many("Invoice", "{x}.order_id = {a}.id", "{x}.id"),
        # margin (costing:read) and workOrders (production:read, [] without) are objects and lists a
        # scope hides: left out
    }),
    Entity("SalesOrderLine", "sales_order_lines", True, {
        **_columns(
            quantity=Kind.DECIMAL, unitPrice=Kind.DECIMAL, discountPercent=Kind.DECIMAL, taxRate=Kind.DECIMAL,
            lineTotal=Kind.DECIMAL, shippedQuantity=Kind.DECIMAL, cancelledQuantity=Kind.DECIMAL,
            promisedDate=Kind.DATE,
        ),
        "item": _ITEM,
    }),
    Entity("Shipment", "shipments", True, {
        **_columns(number=Kind.TEXT, shippedAt=Kind.DATETIME, carrier=Kind.TEXT, trackingNumber=Kind.TEXT),
        "salesOrder": One("SalesOrder", "{x}.id = {a}.order_id"),
        "lines": Many("ShipmentLine", "{x}.shipment_id = {a}.id", "{x}.id"),
    }),
    Entity("ShipmentLine", "shipment_lines", False, {**_columns(quantity=Kind.DECIMAL), "item": _ITEM}),
    # daysOverdue is left out: it is counted from today's date (domain.finance.credit.invoice_days_overdue)
    Entity("Invoice", "invoices", True, {
        **_columns(
            number=Kind.TEXT, issueDate=Kind.DATE, dueDate=Kind.DATE, total=Kind.DECIMAL, paidAmount=Kind.DECIMAL,
            creditedAmount=Kind.DECIMAL, status=Kind.TEXT,
        ),
        # the balance's one SQL definition, over the row's own columns (the only table in its scope)
        "balance": Value(BALANCE_SQL, Kind.DECIMAL),
        "creditNotes": Many("CreditNote", "{x}.invoice_id = {a}.id", "{x}.id"),
        "customer": _CUSTOMER,
        "salesOrder": One("SalesOrder", "{x}.id = {a}.order_id"),
    }),
    Entity("Payment", "payments", True, {
        **_columns(amount=Kind.DECIMAL, receivedOn=Kind.DATE, reference=Kind.TEXT),
        "customer": _CUSTOMER,
    }),
    Entity("CreditNote", "credit_notes", True, {
        **_columns(number=Kind.TEXT, amount=Kind.DECIMAL, reason=Kind.TEXT, createdAt=Kind.DATETIME,
                   createdBy=Kind.TEXT),
        "invoice": One("Invoice", "{x}.id = {a}.invoice_id"),
        "customer": _CUSTOMER,
    }),
    # externalRefs are left out (not asked for yet)
    Entity("Supplier", "suppliers", True, {
        **_columns(
            code=Kind.TEXT, name=Kind.TEXT, email=Kind.TEXT, phone=Kind.TEXT, paymentTermsDays=Kind.INT,
            active=Kind.BOOL, version=Kind.INT,
        ),
        "contacts": Many("Contact", "{x}.supplier_id = {a}.id", "{x}.id"),
    }),
    Entity("PurchaseOrder", "purchase_orders", True, {
        **_columns(number=Kind.TEXT, status=Kind.TEXT, subcontract=Kind.BOOL),
        "supplier": One("Supplier", "{x}.id = {a}.supplier_id"),
        "lines": Many("PurchaseOrderLine", "{x}.order_id = {a}.id", "{x}.position"),
    }),
    # no Node, but its id is a global id all the same ("PurchaseOrderLine:<pk>")
    Entity("PurchaseOrderLine", "purchase_order_lines", True, {
        **_columns(
            quantity=Kind.DECIMAL, receivedQuantity=Kind.DECIMAL, cancelledQuantity=Kind.DECIMAL, dueDate=Kind.DATE,
        ),
        "unitCost": Value("{a}.unit_cost", Kind.DECIMAL, hidden_without=Scope.COSTING_READ),
        "item": _ITEM,
    }),
    # cost is an object costing:read hides: left out
    Entity("WorkOrder", "work_orders", True, {
        **_columns(
            number=Kind.TEXT, quantity=Kind.DECIMAL, completedQuantity=Kind.DECIMAL, status=Kind.TEXT,
            startDate=Kind.DATE, dueDate=Kind.DATE,
        ),
        "item": _ITEM,
        "salesOrder": One("SalesOrder", "{x}.id = {a}.sales_order_id"),
        "components": Many("WorkOrderComponent", "{x}.work_order_id = {a}.id",
                           "{x}.position"),
    }),
    Entity("WorkOrderComponent", "work_order_components", False, {
        **_columns(requiredQuantity=Kind.DECIMAL, issuedQuantity=Kind.DECIMAL),
        "item": _ITEM,
    }),
    Entity("Item", "items", True, {
        **_columns(
            sku=Kind.TEXT, name=Kind.TEXT, uom=Kind.TEXT, kind=Kind.TEXT, procurement=Kind.TEXT,
            leadTimeDays=Kind.INT, safetyStock=Kind.DECIMAL, scrapRate=Kind.DECIMAL, lotSizing=Kind.TEXT,
            fixedLotSize=Kind.DECIMAL, minOrderQuantity=Kind.DECIMAL, lotMultiple=Kind.DECIMAL,
            listPrice=Kind.DECIMAL, active=Kind.BOOL, version=Kind.INT,
        ),
        "standardCost": Value("{a}.standard_cost", Kind.DECIMAL, hidden_without=Scope.COSTING_READ),
        "onHand": _stock_sum("s.on_hand"),
        "reserved": _stock_sum("s.reserved"),
        "available": _stock_sum("s.on_hand - s.reserved"),
        "stock": Many("StockLevel", "{x}.item_id = {a}.id", "{x}.warehouse_id"),
        "bom": One("Bom", "{x}.item_id = {a}.id"),
    }),
    Entity("StockLevel", "stock_balances", False, {
        **_columns(onHand=Kind.DECIMAL, reserved=Kind.DECIMAL),
        "available": Value("({a}.on_hand - {a}.reserved)", Kind.DECIMAL),
        "warehouse": One("Warehouse", "{x}.id = {a}.warehouse_id"),
        "item": One("Item", "{x}.id = {a}.item_id"),
    }),
    Entity("Warehouse", "warehouses", True, _columns(
        code=Kind.TEXT, name=Kind.TEXT, isDefault=Kind.BOOL, version=Kind.INT,
    )),
    Entity("Bom", "boms", False, {
        **_columns(outputQuantity=Kind.DECIMAL, version=Kind.INT),
        "item": One("Item", "{x}.id = {a}.item_id"),
        "lines": Many("BomLine", "{x}.bom_item_id = {a}.item_id", "{x}.position"),
    }),
    Entity("BomLine", "bom_lines", False, {
        **_columns(quantity=Kind.DECIMAL, scrapRate=Kind.DECIMAL),
        "component": One("Item", "{x}.id = {a}.component_id"),
    }),
)}

ROOT_CONNECTIONS: dict[str, RootConnection] = {
    "customers": RootConnection("Customer", Scope.CRM_READ, unplanned=frozenset({"search"})),
    "items": RootConnection("Item", Scope.INVENTORY_READ, {"kind": "{x}.kind = {v}", "active": "{x}.active = {v}"},
                            frozenset({"search"})),
    "salesOrders": RootConnection("SalesOrder", Scope.SALES_READ, {"status": "{x}.status = ANY({v})"},
                                  frozenset({"customerId"})),
    # status reads today's date (EXPIRED); an unknown customerId is an error
    "quotes": RootConnection("Quote", Scope.SALES_READ, unplanned=frozenset({"status", "customerId", "search"})),
    "shipments": RootConnection("Shipment", Scope.SALES_READ, unplanned=frozenset({"orderId", "customerId"})),
    # finance:read or sales:read, and every role with finance:read has sales:read; overdueOnly reads today
    "invoices": RootConnection("Invoice", Scope.SALES_READ, {"status": "{x}.status = ANY({v})"},
                               frozenset({"overdueOnly"})),
    "payments": RootConnection("Payment", Scope.FINANCE_READ, unplanned=frozenset({"customerId"})),
    "suppliers": RootConnection("Supplier", Scope.PURCHASING_READ, unplanned=frozenset({"search"})),
    # supplierId and itemId decode global ids (another type's or garbage: nothing matches)
    "purchaseOrders": RootConnection("PurchaseOrder", Scope.PURCHASING_READ, {"status": "{x}.status = ANY({v})"},
                                     frozenset({"supplierId", "itemId"})),
    "workOrders": RootConnection("WorkOrder", Scope.PRODUCTION_READ, {"status": "{x}.status = ANY({v})"}),
}

ROOT_LISTS: dict[str, RootList] = {
    "warehouses": RootList("Warehouse", Scope.INVENTORY_READ, "{x}.id"),
}

ROOT_LOOKUPS: dict[str, RootLookup] = {
    "customer": RootLookup("Customer", Scope.CRM_READ, {"code": "code"}),
    "item": RootLookup("Item", Scope.INVENTORY_READ, {"sku": "sku"}),
    "salesOrder": RootLookup("SalesOrder", Scope.SALES_READ, {"number": "number"}),
}

# Query.node / nodes: the types whose global ids compile, and the scope each needs (else null, as
# api.node answers)
NODE_SCOPES: dict[str, Scope] = {
    "Customer": Scope.CRM_READ, "Contact": Scope.CRM_READ, "Item": Scope.INVENTORY_READ,
    "Warehouse": Scope.INVENTORY_READ, "SalesOrder": Scope.SALES_READ, "Quote": Scope.SALES_READ,
    "Invoice": Scope.SALES_READ, "Payment": Scope.CREDIT_READ, "CreditNote": Scope.SALES_READ,
    "Shipment": Scope.SALES_READ, "Supplier": Scope.PURCHASING_READ, "PurchaseOrder": Scope.PURCHASING_READ,
    "WorkOrder": Scope.PRODUCTION_READ,
}

PAGE_INFO = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")


def compilable_fields() -> dict[str, dict[str, frozenset[str]]]:
    """Every field that compiles, by type: its name and the arguments it may be given.

    Arguments outside this set (filters not compiled yet) send an operation to the resolver
    path. The differential tests generate their queries from this.
    """
    out: dict[str, dict[str, frozenset[str]]] = {"PageInfo": {name: frozenset() for name in PAGE_INFO}}
    query: dict[str, frozenset[str]] = {"node": frozenset({"id"}), "nodes": frozenset({"ids"})}

    def connection(type_name: str) -> None:
        out[f"{type_name}Connection"] = {name: frozenset() for name in ("edges", "pageInfo", "totalCount")}
        out[f"{type_name}Edge"] = {"cursor": frozenset(), "node": frozenset()}

    for name, root in ROOT_CONNECTIONS.items():
        query[name] = frozenset({"first", "after", *root.filters})
        connection(root.entity)
    for name in ROOT_LISTS:
        query[name] = frozenset()
    for name, lookup in ROOT_LOOKUPS.items():
        query[name] = frozenset({"id", *lookup.keys})
    out["Query"] = query
    for entity in ENTITIES.values():
        fields: dict[str, frozenset[str]] = {"id": frozenset()} if entity.node else {}
        for name, spec in entity.fields.items():
            fields[name] = frozenset({"first", "after", *spec.filters}) if isinstance(spec, Connection) else frozenset()
            if isinstance(spec, Connection):
                connection(spec.type_name)
        out[entity.type_name] = fields
    return out
