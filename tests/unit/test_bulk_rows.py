"""Bulk-file rows: cells read and checked by the domain's rules, errors on the file's columns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.integration.bulk.kinds import BOMS, CUSTOMERS, ITEMS, STOCK, SUPPLIERS
from domain.integration.bulk.rows import RowError, check_header

ITEM = {"sku": "A-1", "name": "Bolt", "kind": "raw_material", "procurement": "BUY"}


def errors(kind: object, record: dict[str, str | None], number: int = 2) -> list[tuple[str, str]]:
    _, found = kind.parse(number, record)  # type: ignore[attr-defined]
    assert all(error.row == number for error in found)
    return [(error.column, error.reason) for error in found]


def test_a_good_customer_row_reads_every_type() -> None:
    row, found = CUSTOMERS.parse(7, {
        "code": " C-1 ", "name": "Acme", "email": "", "tags": "retail; north",
        "payment_terms_days": "45", "credit_limit": "1000.50",
    })
    assert found == []
    assert row.number == 7
    assert row.values == {
        "code": "C-1", "name": "Acme", "email": None, "tags": ["retail", "north"],
        "payment_terms_days": 45, "credit_limit": Decimal("1000.50"),
    }


def test_empty_cells_take_the_column_default() -> None:
    row, found = ITEMS.parse(2, ITEM | {"uom": "", "list_price": "", "active": "", "standard_cost": ""})
    assert found == []
    assert row.values["uom"] == "pcs" and row.values["list_price"] == 0
    assert row.values["active"] is True and row.values["standard_cost"] is None
    assert row.values["kind"] == "RAW_MATERIAL"  # enums are read case-insensitively


def test_cells_that_do_not_read_are_reported_per_column() -> None:
    assert errors(CUSTOMERS, {"code": "C-1", "name": "", "credit_limit": "1,5", "payment_terms_days": "x"}) == [
        ("name", "is required"),
        ("payment_terms_days", "'x' is not a whole number"),
        ("credit_limit", "'1,5' is not a number (use '.' for decimals)"),
    ]


def test_the_domain_rules_apply_and_map_back_to_columns() -> None:
    """createCustomer's rules: code pattern, e-mail, terms 0-365, creditLimit >= 0 with 2 places."""
    found = errors(CUSTOMERS, {
        "code": "bad code", "name": "Acme", "email": "nope", "payment_terms_days": "400",
        "credit_limit": "-1.005",
    })
    assert [column for column, _ in found] == ["code", "email", "payment_terms_days", "credit_limit", "credit_limit"]
    assert ("credit_limit", "creditLimit has more than 2 decimal places") in found
    assert ("credit_limit", "creditLimit must not be negative") in found


def test_item_rules_are_create_items() -> None:
    """scrapRate below 1; FIXED_ORDER_QUANTITY needs fixedLotSize; listPrice at most 4 places."""
    found = errors(ITEMS, ITEM | {"scrap_rate": "1", "lot_sizing": "fixed_order_quantity",
                                  "list_price": "1.00001"})
    assert dict(found) == {
        "scrap_rate": "must be below 1 (a share, 0.05 = 5%)",
        "fixed_lot_size": "is required for FIXED_ORDER_QUANTITY",
        "list_price": "value has more than 4 decimal places",
    }
    assert errors(ITEMS, ITEM | {"kind": "GADGET"}) == [
        ("kind", "'GADGET' is not one of FINISHED, SEMI_FINISHED, RAW_MATERIAL")
    ]


def test_supplier_active_and_stock_counts() -> None:
    assert errors(SUPPLIERS, {"code": "S-1", "name": "Parts", "active": "maybe"}) == [
        ("active", "'maybe' is not true or false")
    ]
    assert errors(STOCK, {"sku": "A-1", "quantity": "-2"}) == [("quantity", "quantity must not be negative")]
    assert errors(STOCK, {"sku": "A-1", "quantity": "2.5", "unit_cost": "1.23456"}) == [
        ("unit_cost", "value has more than 4 decimal places")
    ]


def test_bom_lines() -> None:
    assert errors(BOMS, {"parent_sku": "P", "component_sku": "P", "quantity": "0", "scrap_rate": "1"}) == [
        ("quantity", "value must be greater than 0"),
        ("scrap_rate", "must be below 1"),
        ("component_sku", "a BOM cannot contain its own item"),
    ]


def test_a_short_line_is_an_error_not_an_empty_cell() -> None:
    assert errors(CUSTOMERS, {"code": "C-1", "name": "Acme", "email": None}) == [
        ("email", "missing cell (the line has too few columns)")
    ]


@pytest.mark.parametrize(("header", "reason"), [
    (["code", "name", "colour"], "unknown column 'colour'"),
    (["code", "name", "name"], "column 'name' appears twice"),
    (["code", "email"], "missing column 'name'"),
])
def test_headers_are_checked(header: list[str], reason: str) -> None:
    problem = check_header(header, CUSTOMERS.columns)
    assert problem is not None and problem.startswith(reason)
    assert check_header(["name", " code "], CUSTOMERS.columns) is None


def test_row_errors_compare_by_value() -> None:
    assert RowError(3, "sku", "x") == RowError(3, "sku", "x")
