"""What the compiler knows of the schema: which GraphQL fields are which SQL values.

Only what is listed here compiles; any other field makes the whole operation run on the
resolver path. Each value is written by SQL exactly as the resolver path writes it
(migration 0021's functions for decimals, date-times, ids and cursors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from domain.crm.models import Customer
from domain.identity.scopes import Scope
from domain.inventory.models import Item


class Kind(Enum):
    TEXT = "text"  # String and enums: a JSON string
    INT = "int"
    BOOL = "bool"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    TEXT_LIST = "text_list"  # [String!]!


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    # the field is null for a viewer without this scope (``visible_with``), as on the resolver path
    hidden_without: Scope | None = None


@dataclass(frozen=True)
class Entity:
    type_name: str
    table: str
    columns: dict[str, Column] = field(default_factory=dict)


@dataclass(frozen=True)
class RootConnection:
    entity: Entity
    scope: Scope  # the root field needs it (else FORBIDDEN, which the resolver path reports)
    # arguments that filter: compiled only while absent or null
    filters: frozenset[str] = frozenset()


def _columns(**kinds: Kind) -> dict[str, Column]:
    return {graphql_name: Column(_snake(graphql_name), kind) for graphql_name, kind in kinds.items()}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


CUSTOMER = Entity("Customer", Customer.__tablename__, _columns(
    code=Kind.TEXT, name=Kind.TEXT, email=Kind.TEXT, phone=Kind.TEXT, segment=Kind.TEXT, tags=Kind.TEXT_LIST,
    paymentTermsDays=Kind.INT, creditLimit=Kind.DECIMAL, version=Kind.INT, createdAt=Kind.DATETIME,
    updatedAt=Kind.DATETIME,
))

ITEM = Entity("Item", Item.__tablename__, {
    **_columns(
        sku=Kind.TEXT, name=Kind.TEXT, uom=Kind.TEXT, kind=Kind.TEXT, procurement=Kind.TEXT,
        leadTimeDays=Kind.INT, safetyStock=Kind.DECIMAL, scrapRate=Kind.DECIMAL, lotSizing=Kind.TEXT,
        fixedLotSize=Kind.DECIMAL, minOrderQuantity=Kind.DECIMAL, lotMultiple=Kind.DECIMAL,
        listPrice=Kind.DECIMAL, active=Kind.BOOL, version=Kind.INT,
    ),
    "standardCost": Column("standard_cost", Kind.DECIMAL, hidden_without=Scope.COSTING_READ),
})

ROOT_CONNECTIONS: dict[str, RootConnection] = {
    "customers": RootConnection(CUSTOMER, Scope.CRM_READ, frozenset({"search"})),
    "items": RootConnection(ITEM, Scope.INVENTORY_READ, frozenset({"search", "kind", "active"})),
}
