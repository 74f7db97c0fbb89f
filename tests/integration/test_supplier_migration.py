"""Migration 0008 turns the supplier names stored before it into supplier rows."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from domain.shared.db import make_engine
from erpgraph.migrate import alembic_config, upgrade

NAMES = {
    "ACME parts": "ACME-PARTS",
    "Acme Parts": "ACME-PARTS-2",  # same code once upper-cased: a suffix, in code-point order of the names
    "Bolts & Nuts GmbH": "BOLTS-NUTS-GMBH",
    "!!!": "SUPPLIER",
    "Sächsische Rohrwerke und Verzinkerei GmbH": "S-CHSISCHE-ROHRWERKE-UND-VERZINK",
}


async def test_names_become_suppliers_and_documents_point_at_them(database_url: str) -> None:
    config = alembic_config(database_url)
    before = ScriptDirectory.from_config(config).get_revision("0008").down_revision
    assert isinstance(before, str)
    await asyncio.to_thread(command.downgrade, config, before)
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO items (sku, name, kind, procurement, default_supplier) VALUES "
                "('A', 'a', 'RAW_MATERIAL', 'BUY', 'Acme Parts'), ('B', 'b', 'RAW_MATERIAL', 'BUY', '!!!'), "
                "('C', 'c', 'RAW_MATERIAL', 'BUY', NULL), "
                "('D', 'd', 'RAW_MATERIAL', 'BUY', 'Sächsische Rohrwerke und Verzinkerei GmbH')"
            ))
            await conn.execute(text(
                "INSERT INTO purchase_orders (number, supplier) VALUES ('PO-1', 'ACME parts'), "
                "('PO-2', 'Bolts & Nuts GmbH'), ('PO-3', 'Acme Parts'), ('PO-4', 'ACME parts')"
            ))
        await asyncio.to_thread(upgrade, database_url)
        async with engine.connect() as conn:
            suppliers = dict((await conn.execute(text("SELECT name, code FROM suppliers"))).all())
            orders = (await conn.execute(text(
                "SELECT po.number, s.name FROM purchase_orders po JOIN suppliers s ON s.id = po.supplier_id "
                "ORDER BY po.number"
            ))).all()
            items = (await conn.execute(text(
                "SELECT i.sku, s.name FROM items i LEFT JOIN suppliers s ON s.id = i.default_supplier_id "
                "ORDER BY i.sku"
            ))).all()
            active = (await conn.execute(text("SELECT bool_and(active), min(version) FROM suppliers"))).one()
    finally:
        await engine.dispose()
    assert suppliers == NAMES
    assert [tuple(row) for row in orders] == [
        ("PO-1", "ACME parts"), ("PO-2", "Bolts & Nuts GmbH"), ("PO-3", "Acme Parts"), ("PO-4", "ACME parts"),
    ]
    assert [tuple(row) for row in items] == [
        ("A", "Acme Parts"), ("B", "!!!"), ("C", None), ("D", "Sächsische Rohrwerke und Verzinkerei GmbH"),
    ]
    assert tuple(active) == (True, 1)
