"""The file kinds: their columns, and each row checked by the domain's own rules.

The checks are the ones the create/update services run (``crm.services``,
``purchasing.suppliers``, ``inventory.services``), called on the row's values, so a
row the import takes is a row the API would take.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.crm.services import check_customer
from domain.integration.bulk.rows import (
    Column,
    Row,
    RowError,
    boolean,
    decimal,
    integer,
    one_of,
    parse_row,
    problem_errors,
    tags,
    text,
)
from domain.inventory.models import ITEM_KINDS, LOT_SIZINGS, PROCUREMENTS
from domain.inventory.services import check_item
from domain.purchasing.suppliers import DEFAULT_TERMS_DAYS, check_supplier
from domain.shared.errors import Problems
from domain.shared.numbers import check_decimal, check_text
from domain.shared.parties import check_code

ZERO = Decimal(0)
CUSTOMER_TERMS_DAYS = 30  # the customers table's default


@dataclass(frozen=True)
class Kind:
    """One importable file kind: its columns, its key column, and its row check."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    check: Callable[[Problems, Mapping[str, Any]], None]

    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def parse(self, number: int, record: Mapping[str, str | None]) -> tuple[Row, list[RowError]]:
        """The row and its errors: cells first; the domain's rules on rows whose cells all read."""
        row, errors = parse_row(number, record, self.columns)
        if errors:
            return row, errors
        problems = Problems()
        self.check(problems, row.values)
        return row, problem_errors(number, problems.items, self.columns)


def _customer(problems: Problems, values: Mapping[str, Any]) -> None:
    check_code(problems, values["code"] or "", "code")
    check_customer(problems, {k: v for k, v in values.items() if k != "code"})


def _supplier(problems: Problems, values: Mapping[str, Any]) -> None:
    check_code(problems, values["code"] or "", "code")
    check_supplier(problems, {k: v for k, v in values.items() if k not in ("code", "active")})


def _item(problems: Problems, values: Mapping[str, Any]) -> None:
    check_item(problems, values)


def _bom_line(problems: Problems, values: Mapping[str, Any]) -> None:
    # setBom's line rules (domain.inventory.services.set_bom); it checks them again on apply
    check_decimal(problems, values.get("quantity"), "quantity", places=6, positive=True)
    check_decimal(problems, values.get("output_quantity"), "outputQuantity", places=6, positive=True)
    scrap = values.get("scrap_rate")
    check_decimal(problems, scrap, "scrapRate", places=6, non_negative=True)
    if scrap is not None and scrap >= 1:
        problems.invalid("must be below 1", "scrapRate")
    if values.get("parent_sku") == values.get("component_sku"):
        problems.invalid("a BOM cannot contain its own item", "componentSku")


def _count(problems: Problems, values: Mapping[str, Any]) -> None:
    # adjustStock's rules (domain.inventory.services.adjust_stock) on the counted quantity
    check_decimal(problems, values.get("quantity"), "quantity", places=6, non_negative=True, label="quantity")
    check_decimal(problems, values.get("unit_cost"), "unitCost", places=4, non_negative=True)
    check_text(problems, values.get("reason"), "reason", max_length=300)


CUSTOMERS = Kind("customers", (
    Column("code", text, required=True),
    Column("name", text, required=True),
    Column("email", text),
    Column("phone", text),
    Column("segment", text),
    Column("tags", tags, default=[]),
    Column("payment_terms_days", integer, default=CUSTOMER_TERMS_DAYS, field="paymentTermsDays"),
    Column("credit_limit", decimal, default=ZERO, field="creditLimit"),
), ("code",), _customer)

SUPPLIERS = Kind("suppliers", (
    Column("code", text, required=True),
    Column("name", text, required=True),
    Column("email", text),
    Column("phone", text),
    Column("payment_terms_days", integer, default=DEFAULT_TERMS_DAYS, field="paymentTermsDays"),
    Column("active", boolean, default=True),
), ("code",), _supplier)

ITEMS = Kind("items", (
    Column("sku", text, required=True),
    Column("name", text, required=True),
    Column("uom", text, default="pcs"),
    Column("kind", one_of(ITEM_KINDS), required=True),
    Column("procurement", one_of(PROCUREMENTS), required=True),
    Column("lead_time_days", integer, default=0, field="leadTimeDays"),
    Column("safety_stock", decimal, default=ZERO, field="safetyStock"),
    Column("scrap_rate", decimal, default=ZERO, field="scrapRate"),
    Column("lot_sizing", one_of(LOT_SIZINGS), default="LOT_FOR_LOT", field="lotSizing"),
    Column("fixed_lot_size", decimal, field="fixedLotSize"),
    Column("min_order_quantity", decimal, field="minOrderQuantity"),
    Column("lot_multiple", decimal, field="lotMultiple"),
    Column("list_price", decimal, default=ZERO, field="listPrice"),
    Column("standard_cost", decimal, field="standardCost"),
    Column("default_supplier", text, field="defaultSupplierId"),
    Column("active", boolean, default=True),
), ("sku",), _item)

BOMS = Kind("boms", (
    Column("parent_sku", text, required=True, field="parentSku"),
    Column("component_sku", text, required=True, field="componentSku"),
    Column("quantity", decimal, required=True),
    Column("scrap_rate", decimal, default=ZERO, field="scrapRate"),
    Column("output_quantity", decimal, default=Decimal(1), field="outputQuantity"),
), ("parent_sku", "component_sku"), _bom_line)

STOCK = Kind("stock", (
    Column("sku", text, required=True),
    Column("warehouse", text, field="warehouseId"),
    Column("quantity", decimal, required=True),
    Column("unit_cost", decimal, field="unitCost"),
    Column("reason", text),
), ("sku", "warehouse"), _count)

KINDS = {kind.name: kind for kind in (CUSTOMERS, SUPPLIERS, ITEMS, BOMS, STOCK)}
