"""Bulk import benchmark: 100,000 item rows through `erpgraph import items`.

    .venv/bin/python bench/import_items.py [--rows 100000] [--batch-size 1000]

Uses DATABASE_URL when set, embedded PostgreSQL otherwise; writes a CSV of ``--rows``
items (every column, a few suppliers named), migrates a scratch database and runs the
import as the CLI does (``erpgraph.bulk.import_file``), then the same file again (all
rows unchanged, nothing written). Prints rows/s for both; the target is 100,000 rows
in under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import asyncpg_dsn, scratch_database, servers

from domain.integration.bulk.kinds import ITEMS
from erpgraph.bulk import import_file

KINDS = ("FINISHED", "SEMI_FINISHED", "RAW_MATERIAL")
SUPPLIERS = 20


def write_file(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ITEMS.column_names())
        for i in range(rows):
            kind = KINDS[i % 3]
            writer.writerow([
                f"BENCH-{i:06d}", f"Bench item {i}", "pcs", kind, "BUY" if kind == "RAW_MATERIAL" else "MAKE",
                i % 30, f"{i % 50}.5", "0.02", "LOT_FOR_LOT", "", "", "", f"{10 + i % 90}.25",
                f"{5 + i % 40}.1250", f"SUP-{i % SUPPLIERS}" if kind == "RAW_MATERIAL" else "", "true",
            ])


async def run(rows: int, batch_size: int) -> None:
    with servers() as (server_url, _), tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "items.csv"
        began = time.perf_counter()
        write_file(path, rows)
        print(f"wrote {rows} rows ({path.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - began:.1f} s")
        async with scratch_database(server_url) as url:
            conn = await asyncpg.connect(asyncpg_dsn(url))
            try:
                await conn.executemany("INSERT INTO suppliers (code, name) VALUES ($1, $2)",
                                       [(f"SUP-{i}", f"Supplier {i}") for i in range(SUPPLIERS)])
                console = Console(stderr=True)
                for label in ("first import", "same file again"):
                    before = await conn.fetchval("SELECT count(*) FROM domain_events")
                    report = await import_file(url, "items", path, batch_size=batch_size, console=console)
                    events = await conn.fetchval("SELECT count(*) FROM domain_events") - before
                    print(f"{label}: {report.summary()}; {events} events; "
                          f"{rows / report.seconds:,.0f} rows/s")
                    assert not report.errors, report.errors[:5]
                items = await conn.fetchval("SELECT count(*) FROM items")
                print(f"items in the database: {items}")
            finally:
                await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.batch_size))


if __name__ == "__main__":
    main()
