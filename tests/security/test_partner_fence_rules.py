"""Every table that belongs to a customer is fenced, or read only through a fenced parent:
a new customer-owned table without a rule fails here before it leaks to partners."""

from __future__ import annotations

from domain.identity.fence import REACHED_THROUGH_PARENT, RULES
from domain.shared.models import metadata


def test_every_customer_owned_table_is_fenced_or_reached_through_a_fenced_parent() -> None:
    fenced = set(RULES) | REACHED_THROUGH_PARENT
    owned = {"customers"}
    changed = True
    while changed:  # tables referencing a customer-owned table, transitively
        changed = False
        for table in metadata.sorted_tables:
            if table.name not in owned and {fk.column.table.name for fk in table.foreign_keys} & owned:
                owned.add(table.name)
                changed = True
    assert owned - fenced == set()
    assert {"customers", "sales_orders", "quotes", "shipments", "invoices", "payments", "credit_notes",
            "contacts", "leads", "opportunities", "activities", "work_orders"} <= set(RULES)
    # no rule for a table that does not exist (a rename would silently unfence it)
    assert set(RULES) | REACHED_THROUGH_PARENT <= {table.name for table in metadata.sorted_tables}


def test_only_id_arguments_are_checked_against_the_fence() -> None:
    from api.fence import _ids, _names_an_id

    paths = [path for _, path in _ids(["x"], ("itemIds",))]
    paths += [("ids", "3"), ("id",), ("lines", "0", "itemId"), ("notes",), ("reason",)]
    assert [_names_an_id(path) for path in paths] == [True, True, True, True, False, False]
