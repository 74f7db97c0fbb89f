"""`erpgraph import` / `erpgraph export` run as a user would, against a migrated database."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from erpgraph.migrate import upgrade
from tests.e2e.processes import cli_env, erpgraph

SUPPLIERS = "code,name,email,phone,payment_terms_days,active\nS-1,Steel Co,sales@steel.example,,60,true\n"
CUSTOMERS = (
    "code,name,email,phone,segment,tags,payment_terms_days,credit_limit\n"
    "C-1,Acme,buy@acme.example,+1 555,retail,north;vip,45,1000.5\n"
    'C-2,"Bolt & Nut, Ltd",,,,,30,0\n'
)
ITEMS = (
    "sku,name,uom,kind,procurement,lead_time_days,safety_stock,scrap_rate,lot_sizing,fixed_lot_size,"
    "min_order_quantity,lot_multiple,list_price,standard_cost,default_supplier,active\n"
    "BIKE,Bike,pcs,FINISHED,MAKE,3,2,0,LOT_FOR_LOT,,,,499.9,250.1234,,true\n"
    "FRAME,Frame,pcs,SEMI_FINISHED,MAKE,2,0,0.05,FIXED_ORDER_QUANTITY,10,,,0,80,,true\n"
    "TUBE,Tube,m,RAW_MATERIAL,BUY,7,100,0,MIN_MULTIPLE,,50,25,0,2.5,S-1,false\n"
)
BOMS = "parent_sku,component_sku,quantity,scrap_rate,output_quantity\nBIKE,FRAME,1,0,1\nFRAME,TUBE,2.5,0.1,1\n"
STOCK = "sku,warehouse,quantity,unit_cost,reason\nTUBE,MAIN,120,2.5,\nBIKE,,3,,opening count\n"
TABLES = ("customers", "credit_limit_changes", "suppliers", "items", "boms", "bom_lines", "stock_balances",
          "stock_moves", "item_valuations", "domain_events")


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def database(empty_database: str) -> AsyncIterator[str]:
    """A migrated database with one default warehouse MAIN (warehouses are not imported)."""
    await asyncio.to_thread(upgrade, empty_database)
    conn = await asyncpg.connect(dsn(empty_database))
    try:
        await conn.execute("INSERT INTO warehouses (code, name, is_default) VALUES ('MAIN', 'Main', true)")
    finally:
        await conn.close()
    yield empty_database


def run(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return erpgraph(*args, env=cli_env(tmp_path, DATABASE_URL=url, COLUMNS="200"), cwd=tmp_path)


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def write(tmp_path: Path, name: str, content: str) -> str:
    (tmp_path / name).write_text(content, encoding="utf-8")
    return name


def import_all(tmp_path: Path, url: str) -> None:
    for kind, content in (("suppliers", SUPPLIERS), ("customers", CUSTOMERS), ("items", ITEMS),
                          ("boms", BOMS), ("stock", STOCK)):
        result = run(tmp_path, url, "import", kind, write(tmp_path, f"{kind}.csv", content))
        assert result.returncode == 0, result.stdout + result.stderr


async def snapshot(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn(url))
    try:
        return {table: [dict(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")]
                for table in TABLES}
    finally:
        await conn.close()


async def test_importing_twice_changes_nothing(tmp_path: Path, database: str) -> None:
    import_all(tmp_path, database)
    first = await snapshot(database)
    assert [len(first[t]) for t in ("customers", "suppliers", "items", "bom_lines", "stock_moves")] == [2, 1, 3, 2, 2]
    # as the services write them: each stock increase also says stock was freed (backorders may fill)
    assert [e["type"] for e in first["domain_events"]] == [
        "supplier.created", *["customer.created"] * 2, *["item.created"] * 3, "bom.set", "bom.set",
        "stock.adjusted", "stock.freed", "stock.adjusted", "stock.freed",
    ]

    import_all(tmp_path, database)
    result = run(tmp_path, database, "import", "items", "items.csv")
    assert "0 created, 0 updated, 3 unchanged" in result.stdout
    assert await snapshot(database) == first


async def test_an_edited_row_is_one_update_with_its_changed_fields(tmp_path: Path, database: str) -> None:
    import_all(tmp_path, database)
    edited = ITEMS.replace("Frame,pcs", "Frame v2,pcs").replace("499.9,250.1234", "519.9,250.1234")
    result = run(tmp_path, database, "import", "items", write(tmp_path, "edited.csv", edited))
    assert result.returncode == 0 and "0 created, 2 updated, 1 unchanged" in result.stdout
    conn = await asyncpg.connect(dsn(database))
    try:
        events = await conn.fetch("SELECT payload FROM domain_events WHERE type = 'item.updated' ORDER BY id")
        versions = dict(await conn.fetch("SELECT sku, version FROM items"))
    finally:
        await conn.close()
    assert sorted(e["payload"] for e in events) == ['{"fields": ["listPrice"]}', '{"fields": ["name"]}']
    assert versions == {"BIKE": 2, "FRAME": 2, "TUBE": 1}


async def test_bad_rows_are_reported_and_good_rows_applied(tmp_path: Path, database: str) -> None:
    content = (
        "code,name,email,credit_limit\n"
        "OK-1,Good one,a@b.example,10\n"        # row 2
        "bad code,Bad,x@y.example,10\n"         # row 3: code
        "OK-2,Half bad,not-an-email,-5\n"       # row 4: email and credit_limit; nothing of it applied
        "OK-1,Again,,\n"                        # row 5: repeats row 2
        "OK-3,Good too,,1.5\n"                  # row 6
    )
    result = run(tmp_path, database, "import", "customers", write(tmp_path, "c.csv", content),
                 "--errors", "report.csv")
    assert result.returncode == 1, result.stderr
    assert "2 created, 0 updated, 0 unchanged (rows), 3 rows refused" in result.stdout
    report = [tuple(r) for r in csv.reader(io.StringIO((tmp_path / "report.csv").read_text(), newline=""))]
    assert report == [
        ("row", "column", "reason"),
        ("3", "code", "code must be 1-40 letters, digits, '.', '_' or '-'"),
        ("4", "email", "is not a valid e-mail address"),
        ("4", "credit_limit", "creditLimit must not be negative"),
        ("5", "code", "repeats row 2"),
    ]
    for row, column in (("3", "code"), ("4", "credit_limit"), ("5", "code")):
        assert any(line.split()[:2] == ["│", row] and column in line for line in result.stdout.splitlines()), \
            result.stdout
    conn = await asyncpg.connect(dsn(database))
    try:
        rows = [tuple(r) for r in await conn.fetch("SELECT code, name, credit_limit FROM customers ORDER BY code")]
    finally:
        await conn.close()
    assert rows == [("OK-1", "Good one", Decimal("10.00")), ("OK-3", "Good too", Decimal("1.50"))]


async def test_a_bad_header_refuses_the_file(tmp_path: Path, database: str) -> None:
    result = run(tmp_path, database, "import", "customers", write(tmp_path, "c.csv", "code,nom\nC,x\n"))
    assert result.returncode == 2
    assert result.stderr.startswith("erpgraph: customers file: unknown column 'nom'")


async def test_csv_round_trip(tmp_path: Path, database: str, services: tuple[str, str]) -> None:
    """Export customers and items, import them into an empty database, export again: same files."""
    import_all(tmp_path, database)
    for kind in ("customers", "items"):
        result = run(tmp_path, database, "export", kind, f"{kind}-1.csv")
        assert result.returncode == 0, result.stderr
    tube = next(r for r in read_csv(tmp_path / "items-1.csv") if r["sku"] == "TUBE")
    assert tube == {
        "sku": "TUBE", "name": "Tube", "uom": "m", "kind": "RAW_MATERIAL", "procurement": "BUY",
        "lead_time_days": "7", "safety_stock": "100", "scrap_rate": "0", "lot_sizing": "MIN_MULTIPLE",
        "fixed_lot_size": "", "min_order_quantity": "50", "lot_multiple": "25", "list_price": "0",
        "standard_cost": "2.5", "default_supplier": "S-1", "active": "false",
    }

    server = make_url(services[0])
    conn = await asyncpg.connect(dsn(services[0]))
    await conn.execute('CREATE DATABASE "erpgraph_bulk_round_trip"')
    other = server.set(database="erpgraph_bulk_round_trip").render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, other)
        assert run(tmp_path, other, "import", "suppliers", "suppliers.csv").returncode == 0
        for kind in ("customers", "items"):
            result = run(tmp_path, other, "import", kind, f"{kind}-1.csv")
            assert result.returncode == 0, result.stdout + result.stderr
            assert run(tmp_path, other, "export", kind, f"{kind}-2.csv").returncode == 0
            assert (tmp_path / f"{kind}-2.csv").read_text() == (tmp_path / f"{kind}-1.csv").read_text()
    finally:
        await conn.execute('DROP DATABASE IF EXISTS "erpgraph_bulk_round_trip" WITH (FORCE)')
        await conn.close()
    assert "C-2,\"Bolt & Nut, Ltd\",,,,,30,0" in (tmp_path / "customers-1.csv").read_text()


async def test_stock_counts_post_the_difference(tmp_path: Path, database: str) -> None:
    """TUBE counted 120 (+120 at 2.5), then 90 (-30), then 10 with 20 reserved: refused."""
    import_all(tmp_path, database)
    result = run(tmp_path, database, "import", "stock", write(tmp_path, "s.csv", "sku,quantity\nTUBE,90\n"))
    assert result.returncode == 0 and "0 created, 1 updated" in result.stdout
    conn = await asyncpg.connect(dsn(database))
    try:
        await conn.execute("UPDATE stock_balances SET reserved = 20 FROM items WHERE items.id = item_id "
                           "AND items.sku = 'TUBE'")
        result = run(tmp_path, database, "import", "stock",
                     write(tmp_path, "s2.csv", "sku,quantity\nTUBE,10\nNOPE,1\n"), "--errors", "e.csv")
        assert result.returncode == 1
        assert (tmp_path / "e.csv").read_text().splitlines()[1:] == [
            "2,quantity,20 is reserved here; a count cannot be below what is reserved",
            "3,sku,item 'NOPE' not found",
        ]
        moves = [tuple(r) for r in await conn.fetch(
            "SELECT i.sku, m.kind, m.quantity_on_hand, m.value FROM stock_moves m JOIN items i ON i.id = m.item_id "
            "ORDER BY m.id")]
        balance = await conn.fetchval("SELECT on_hand FROM stock_balances b JOIN items i ON i.id = b.item_id "
                                      "WHERE i.sku = 'TUBE'")
        events = await conn.fetchval("SELECT count(*) FROM domain_events WHERE type = 'stock.adjusted'")
    finally:
        await conn.close()
    assert moves == [
        ("TUBE", "ADJUSTMENT", Decimal("120"), Decimal("300.00")),
        ("BIKE", "ADJUSTMENT", Decimal("3"), Decimal("750.3702")),  # 3 × BIKE's standard cost 250.1234
        ("TUBE", "ADJUSTMENT", Decimal("-30"), Decimal("-75.00")),
    ]
    assert balance == 90 and events == 3


async def test_orders_export_one_row_per_line(tmp_path: Path, database: str) -> None:
    import_all(tmp_path, database)
    conn = await asyncpg.connect(dsn(database))
    try:
        order = await conn.fetchval(
            "INSERT INTO sales_orders (number, customer_id, status, subtotal, tax_total, total) "
            "SELECT 'SO-1', id, 'CONFIRMED', 1049.8, 0, 1049.8 FROM customers WHERE code = 'C-1' RETURNING id")
        await conn.execute(
            "INSERT INTO sales_order_lines (order_id, position, item_id, quantity, unit_price, line_total, tax_amount) "
            "SELECT $1, p, i.id, q, 524.9, 524.9 * q, 0 FROM (VALUES (0, 'BIKE', 1), (1, 'FRAME', 1)) v(p, sku, q) "
            "JOIN items i ON i.sku = v.sku", order)
    finally:
        await conn.close()
    result = run(tmp_path, database, "export", "orders", "orders.csv")
    assert result.returncode == 0 and "wrote 2 orders rows" in result.stderr
    rows = read_csv(tmp_path / "orders.csv")
    assert [(r["order_number"], r["customer_code"], r["line"], r["sku"], r["quantity"], r["line_total"])
            for r in rows] == [("SO-1", "C-1", "1", "BIKE", "1", "524.9"), ("SO-1", "C-1", "2", "FRAME", "1", "524.9")]


async def test_a_bom_is_replaced_whole_or_not_at_all(tmp_path: Path, database: str) -> None:
    """FRAME -> BIKE would close BIKE -> FRAME: both FRAME rows refused, its BOM kept; BIKE's replaced."""
    import_all(tmp_path, database)
    content = ("parent_sku,component_sku,quantity\n"
               "FRAME,TUBE,3\n"      # row 2: fine alone, not applied with row 3
               "FRAME,BIKE,1\n"      # row 3: cycle
               "BIKE,TUBE,2\n")      # row 4: BIKE's BOM is now this one line
    result = run(tmp_path, database, "import", "boms", write(tmp_path, "b.csv", content), "--errors", "e.csv")
    assert result.returncode == 1
    assert (tmp_path / "e.csv").read_text().splitlines()[1:] == [
        "2,parent_sku,not applied: row 3 of this BOM is wrong",
        '3,component_sku,"component would make the BOM cyclic (it is, or contains, the item itself)"',
    ]
    conn = await asyncpg.connect(dsn(database))
    try:
        lines = [tuple(r) for r in await conn.fetch(
            "SELECT p.sku, c.sku, l.quantity, l.scrap_rate FROM bom_lines l JOIN items p ON p.id = l.bom_item_id "
            "JOIN items c ON c.id = l.component_id ORDER BY 1, 2")]
    finally:
        await conn.close()
    assert lines == [("BIKE", "TUBE", 2, 0), ("FRAME", "TUBE", Decimal("2.5"), Decimal("0.1"))]
