"""What the MRP job's database work costs at least (for bench/mrp.py).

- The COPY floor: the job's load queries as ``COPY (…) TO STDOUT`` into a sink, and a
  saved run's planned orders, pegging and messages written back with COPY alone into
  scratch tables with the same columns, indexes, checks and foreign keys (and once
  without the foreign keys, to show what checking them a row at a time costs).
- Foreign-key options: the save's database work (``run.replace_earlier`` and the three
  COPYs) replacing a saved run by a copy of itself in the real tables, as migrated and
  with the foreign keys the plan tables used to have put back, each in a transaction
  that is rolled back.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from domain.planning import run as planning
from domain.production.models import OPEN_STATUSES as WORK_ORDER_OPEN
from domain.purchasing.models import OPEN_STATUSES as PURCHASE_OPEN
from domain.sales.models import OPEN_ORDER_STATUSES

# (table, columns) exactly as run.write_plan writes them
OUTPUT_TABLES = (
    ("planned_orders", ("id", "run_id", "item_id", "kind", "status", "quantity", "release_date", "due_date")),
    ("peggings", ("planned_order_id", "position", "source", "quantity", "date", "sales_order_id", "opportunity_id",
                  "work_order_id", "parent_planned_order_id")),
    ("planning_messages", ("run_id", "item_id", "severity", "code", "message")),
)

# The foreign keys the plan tables had before the save took over keeping them whole
# (see domain.planning.models): name -> (table, definition).
FORMER_FKS = {
    "fk_planned_orders_item_id_items": ("planned_orders", "FOREIGN KEY (item_id) REFERENCES items(id)"),
    "fk_planned_orders_run_id_mrp_runs": (
        "planned_orders", "FOREIGN KEY (run_id) REFERENCES mrp_runs(id) ON DELETE CASCADE"),
    "fk_peggings_planned_order_id_planned_orders": (
        "peggings", "FOREIGN KEY (planned_order_id) REFERENCES planned_orders(id) ON DELETE CASCADE"),
    "fk_peggings_parent_planned_order_id_planned_orders": (
        "peggings", "FOREIGN KEY (parent_planned_order_id) REFERENCES planned_orders(id) ON DELETE SET NULL"),
    "fk_peggings_sales_order_id_sales_orders": (
        "peggings", "FOREIGN KEY (sales_order_id) REFERENCES sales_orders(id) ON DELETE SET NULL"),
    "fk_peggings_opportunity_id_opportunities": (
        "peggings", "FOREIGN KEY (opportunity_id) REFERENCES opportunities(id) ON DELETE SET NULL"),
    "fk_peggings_work_order_id_work_orders": (
        "peggings", "FOREIGN KEY (work_order_id) REFERENCES work_orders(id) ON DELETE SET NULL"),
}
OPTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (name, former foreign keys put back)
    ("as migrated", ()),
    ("+ planned_orders.item_id, run_id FKs", ("fk_planned_orders_item_id_items", "fk_planned_orders_run_id_mrp_runs")),
    ("+ pegging -> planned order FKs", ("fk_peggings_planned_order_id_planned_orders",
                                        "fk_peggings_parent_planned_order_id_planned_orders")),
    ("+ every former FK (each row checked)", tuple(FORMER_FKS)),
)


def load_queries(forecast_min: int) -> list[tuple[str, str, tuple[Any, ...]]]:
    """The job's load queries with their arguments (private to the run module; the floor reads the same rows)."""
    work_orders = list(WORK_ORDER_OPEN)
    return [
        ("items", planning._ITEMS, ()),
        ("BOM lines", planning._BOM_LINES, ()),
        ("sales demand", planning._SALES_DEMAND, (list(OPEN_ORDER_STATUSES),)),
        ("forecast demand", planning._FORECAST_DEMAND, (list(planning.CLOSED_OPPORTUNITY_STAGES), forecast_min)),
        ("work order components", planning._WORK_ORDER_COMPONENT_DEMAND, (work_orders,)),
        ("unreleased work orders", planning._UNRELEASED_WORK_ORDER_DEMAND, (work_orders,)),
        ("purchase receipts", planning._PURCHASE_RECEIPTS, (list(PURCHASE_OPEN),)),
        ("work order receipts", planning._WORK_ORDER_RECEIPTS, (work_orders,)),
    ]


@dataclass
class Floor:
    read_s: float
    read_rows: int
    read_mib: float
    write_s: dict[str, float]  # per table, with foreign keys
    write_no_fk_s: float
    written: dict[str, int]

    @property
    def write_total(self) -> float:
        return sum(self.write_s.values())


@dataclass
class Option:
    name: str
    seconds: float
    steps: dict[str, float]


def _run_rows(table: str, columns: tuple[str, ...], run_id: int, id_shift: int, new_run: int | None) -> str:
    """A query for ``run_id``'s rows of an output table; ids shifted and run replaced for a copy."""
    shifted = {"id": f"id + {id_shift}", "planned_order_id": f"p.planned_order_id + {id_shift}",
               "parent_planned_order_id": f"p.parent_planned_order_id + {id_shift}"}
    exprs = [f"{new_run}::bigint" if column == "run_id" and new_run is not None
             else (shifted[column] if column in shifted and id_shift else
                   ("p." + column if table == "peggings" else column))
             for column in columns]
    if table == "peggings":
        return (f"SELECT {', '.join(exprs)} FROM peggings p JOIN planned_orders o ON o.id = p.planned_order_id "
                f"WHERE o.run_id = {run_id}")
    return f"SELECT {', '.join(exprs)} FROM {table} WHERE run_id = {run_id}"


async def _dump(conn: asyncpg.Connection, tmp: str, run_id: int, id_shift: int = 0,
                new_run: int | None = None) -> tuple[dict[str, str], dict[str, int]]:
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    for table, columns in OUTPUT_TABLES:
        files[table] = str(Path(tmp) / f"{table}.bin")
        status = await conn.copy_from_query(_run_rows(table, columns, run_id, id_shift, new_run),
                                            output=files[table], format="binary")
        rows[table] = int(status.split()[-1])
    return files, rows


async def copy_floor(dsn: str, run_id: int, forecast_min: int) -> Floor:
    conn = await asyncpg.connect(dsn)
    try:
        read_bytes = 0

        async def sink(chunk: bytes) -> None:
            nonlocal read_bytes
            read_bytes += len(chunk)

        rows_read = 0
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            began = time.perf_counter()
            for _, query, args in load_queries(forecast_min):
                status = await conn.copy_from_query(query, *args, output=sink, format="binary")
                rows_read += int(status.split()[-1])
            read_s = time.perf_counter() - began

        with tempfile.TemporaryDirectory(prefix="erpgraph-bench-mrp-") as tmp:
            files, written = await _dump(conn, tmp, run_id)
            write_s = await _timed_write(conn, files, foreign_keys=True)
            write_no_fk = sum((await _timed_write(conn, files, foreign_keys=False)).values())
    finally:
        await conn.close()
    return Floor(read_s, rows_read, read_bytes / 2**20, write_s, write_no_fk, written)


async def _timed_write(conn: asyncpg.Connection, files: dict[str, str], *, foreign_keys: bool) -> dict[str, float]:
    """COPY the files into scratch copies of the output tables (same indexes and checks; the
    same foreign keys, pointing at the scratch planned orders, when asked), then roll back."""
    seconds: dict[str, float] = {}
    scratch = {table: f"floor_{table}" for table, _ in OUTPUT_TABLES}
    tx = conn.transaction()
    await tx.start()
    try:
        for table, _ in OUTPUT_TABLES:
            await conn.execute(f"CREATE TABLE {scratch[table]} (LIKE {table} INCLUDING ALL)")
        if foreign_keys:
            for table, _ in OUTPUT_TABLES:
                for name, definition in await conn.fetch(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = $1::regclass AND contype = 'f'", table):
                    definition = definition.replace(
                        "REFERENCES planned_orders(", f"REFERENCES {scratch['planned_orders']}(")
                    await conn.execute(f"ALTER TABLE {scratch[table]} ADD CONSTRAINT floor_{name} {definition}")
        for table, columns in OUTPUT_TABLES:
            began = time.perf_counter()
            await conn.copy_to_table(scratch[table], source=files[table], columns=columns, format="binary")
            seconds[table] = time.perf_counter() - began
    finally:
        await tx.rollback()
    return seconds


async def _step(steps: dict[str, float], label: str, statement: Awaitable[Any]) -> None:
    began = time.perf_counter()
    await statement
    steps[label] = time.perf_counter() - began


async def fk_options(dsn: str, run_id: int) -> list[Option]:
    """The save's database work for each of OPTIONS: the run replaced by a copy of itself."""
    conn = await asyncpg.connect(dsn)
    try:
        present = {name for name, in await conn.fetch("SELECT conname FROM pg_constraint WHERE contype = 'f'")}
        new_run = await conn.fetchval("SELECT max(id) + 1000 FROM mrp_runs")
        id_shift = await conn.fetchval("SELECT max(id) FROM planned_orders")
        options: list[Option] = []
        with tempfile.TemporaryDirectory(prefix="erpgraph-bench-mrp-") as tmp:
            files, _ = await _dump(conn, tmp, run_id, id_shift, new_run)
            for name, put_back in OPTIONS:
                steps: dict[str, float] = {}
                tx = conn.transaction()
                await tx.start()
                try:
                    job = await conn.fetchval("INSERT INTO jobs (kind, status) VALUES ('BENCH', 'SUCCEEDED') "
                                              "RETURNING id")
                    await conn.execute("INSERT INTO mrp_runs (id, job_id, start_date, horizon_days) "
                                       "SELECT $1, $2, start_date, horizon_days FROM mrp_runs WHERE id = $3",
                                       new_run, job, run_id)
                    for constraint in put_back:  # the schema of the option: not timed
                        if constraint not in present:
                            table, definition = FORMER_FKS[constraint]
                            await conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {definition}")
                    began = time.perf_counter()
                    await _step(steps, "replace earlier", planning.replace_earlier(conn, new_run))
                    for table, columns in OUTPUT_TABLES:
                        await _step(steps, f"COPY {table}", conn.copy_to_table(
                            table, source=files[table], columns=columns, format="binary"))
                    options.append(Option(name, time.perf_counter() - began, steps))
                finally:
                    await tx.rollback()
    finally:
        await conn.close()
    return options
