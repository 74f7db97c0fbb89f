"""The all-items roll-up against the database: load with COPY, roll up, save with COPY.

The pure rule (``domain.costing.rollup``) does the arithmetic; this module moves rows
with asyncpg, as ``domain.planning.run`` does for MRP: 200,000 items and a million BOM
lines are read in one ``COPY (SELECT …) TO STDOUT`` and the results written with one
``COPY … FROM STDIN``.

- **Load**: one REPEATABLE READ, READ ONLY transaction (one snapshot). The BOM lines
  come aggregated per parent as text (``components``: ids, ``lines``:
  ``quantity:scrap`` tokens) so the client splits strings instead of decoding a
  million rows; tokens repeat (few distinct quantities and scraps), so each distinct
  token is turned into its factor (``rollup.line_factor``) once.
- **Save**: :func:`clear` deletes every earlier result and :func:`write` copies the
  new ones, in the one transaction the worker opens before the load (the server
  deletes while the client loads and rolls up), so readers see the previous roll-up
  until the new one commits, and a failed job leaves it as it was.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg

from domain.costing.rollup import CostItem, Rollup, line_factor
from domain.inventory.valuation import exact, unit_cost_now

_LOAD = """
SELECT i.id, i.procurement, i.scrap_rate, v.average_cost, i.standard_cost, b.output_quantity,
       l.components, l.lines
FROM items i
LEFT JOIN item_valuations v ON v.item_id = i.id
LEFT JOIN boms b ON b.item_id = i.id
LEFT JOIN (
    SELECT bom_item_id,
           string_agg(component_id::text, ' ' ORDER BY position, id) AS components,
           string_agg(quantity::text || ':' || scrap_rate::text, ' ' ORDER BY position, id) AS lines
    FROM bom_lines GROUP BY bom_item_id
) l ON l.bom_item_id = b.item_id
"""
LOAD_QUERY = _LOAD  # bench/costing.py times the same query as COPY alone
NULL = "\\N"  # COPY text format's null
COLUMNS = ("item_id", "unit_cost", "job_id")


class _Decimals(dict[str, Decimal]):
    """Text -> Decimal, each distinct text parsed once."""

    def __missing__(self, key: str) -> Decimal:
        value = self[key] = Decimal(key)
        return value


class _Factors(dict[str, Decimal]):
    """``quantity:scrap`` token -> ``line_factor``, each distinct token computed once."""

    def __missing__(self, key: str) -> Decimal:
        quantity, scrap = key.split(":")
        value = self[key] = line_factor(Decimal(quantity), Decimal(scrap))
        return value


@dataclass(frozen=True, slots=True)
class Loaded:
    items: dict[int, CostItem]
    bom_lines: int
    read_bytes: int


class Parser:
    """Builds the items from ``_LOAD``'s COPY output (text format), chunk by chunk as it
    arrives, so the client parses while the server is still sending."""

    def __init__(self) -> None:
        self.items: dict[int, CostItem] = {}
        self.bom_lines = 0
        self.read_bytes = 0
        self._rest = b""
        self._decimals = _Decimals()
        self._factors = _Factors()

    def feed(self, chunk: bytes) -> None:
        self.read_bytes += len(chunk)
        data = self._rest + chunk
        cut = data.rfind(b"\n") + 1
        self._rest = data[cut:]
        if cut:
            self._rows(data[:cut].decode())

    def result(self) -> Loaded:
        if self._rest:
            raise ValueError("the COPY output ended inside a row")
        return Loaded(self.items, self.bom_lines, self.read_bytes)

    def _rows(self, text: str) -> None:
        items, decimals, factors = self.items, self._decimals, self._factors
        for row in text.split("\n"):
            if not row:
                continue
            item_id, procurement, scrap, average, standard, output, components, tokens = row.split("\t")
            pk = int(item_id)
            cost = unit_cost_now(None if average == NULL else Decimal(average),
                                 None if standard == NULL else decimals[standard])
            if output == NULL:
                items[pk] = CostItem(pk, cost, procurement, False, decimals[scrap])
                continue
            ids = tuple(map(int, components.split(" "))) if components != NULL else ()
            self.bom_lines += len(ids)
            items[pk] = CostItem(
                pk, cost, procurement, True, decimals[scrap], decimals[output], ids,
                tuple(map(factors.__getitem__, tokens.split(" "))) if ids else (),
            )


def parse(data: str) -> Loaded:
    """The items of a whole COPY output of ``_LOAD`` (text format)."""
    parser = Parser()
    parser.feed(data.encode())
    return parser.result()


async def load(conn: asyncpg.Connection) -> Loaded:
    """Every item with its cost inputs and BOM, from one snapshot, with COPY."""
    parser = Parser()

    async def sink(chunk: bytes) -> None:
        parser.feed(chunk)

    # the parse makes a million small objects, none garbage (see rollup.roll_up)
    collecting = gc.isenabled()
    gc.disable()
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.copy_from_query(_LOAD, output=sink, format="text")
    finally:
        if collecting:
            gc.enable()
    return parser.result()


async def clear(conn: asyncpg.Connection) -> int:
    """Delete every earlier roll-up (inside the save transaction); the count deleted."""
    status = await conn.execute("DELETE FROM cost_rollups")
    return int(status.split()[-1])


@dataclass(frozen=True, slots=True)
class Saved:
    rows: int
    seconds: float


async def write(conn: asyncpg.Connection, job_id: int, rollup: Rollup) -> Saved:
    """Copy the roll-up's unit costs (10 places) in (inside the save transaction, after :func:`clear`)."""
    began = time.perf_counter()

    def rows() -> Iterator[tuple[Any, ...]]:
        for item_id, unit in rollup.unit_costs.items():
            yield item_id, exact(unit), job_id

    await conn.copy_records_to_table("cost_rollups", records=rows(), columns=COLUMNS)
    return Saved(len(rollup.unit_costs), time.perf_counter() - began)
