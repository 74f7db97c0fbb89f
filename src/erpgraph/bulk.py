"""`erpgraph import` / `erpgraph export`: CSV files in and out, a progress bar, a row error report.

The file side (UTF-8, header row, batching, the terminal) lives here; rows are read,
checked and applied by ``domain.integration.bulk``. Valid rows are applied in batches,
one transaction each; a batch the database refuses is retried row by row, so a row is
applied whole or reported, never half.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.integration.bulk import BATCH_SIZE, boms, exports, stock, upsert
from domain.integration.bulk.kinds import KINDS, Kind
from domain.integration.bulk.rows import Row, RowError, check_header
from domain.shared.db import make_engine, make_sessionmaker
from erpgraph.server import StartupError, check_database

ACTOR = "import"


@dataclass
class Report:
    """What an import did, over all batches."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, outcome: upsert.Outcome) -> None:
        self.created += outcome.created
        self.updated += outcome.updated
        self.unchanged += outcome.unchanged
        self.errors.extend(outcome.errors or ())

    @property
    def refused_rows(self) -> int:
        return len({error.row for error in self.errors})

    def summary(self) -> str:
        what = "BOMs" if self.kind == "boms" else "rows"
        return (f"{self.kind}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged "
                f"({what}), {self.refused_rows} rows refused, in {self.seconds:.1f} s")


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=False)


def _open(path: Path) -> TextIO:
    try:
        # utf-8-sig: a byte-order mark, as spreadsheet programs write, is not part of the first column's name
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise StartupError(f"cannot read {path}: {exc.strerror}") from None


def _create(path: Path) -> TextIO:
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise StartupError(f"cannot write {path}: {exc.strerror}") from None


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return max(sum(1 for _ in f) - 1, 0)


def header(kind: Kind, reader: csv.DictReader[str]) -> list[str]:
    """The kind's columns the file has, in the kind's order; a header that cannot be read is exit 2."""
    try:
        names = reader.fieldnames
    except UnicodeDecodeError as exc:
        raise StartupError(f"{kind.name} file is not UTF-8: {exc.reason} at byte {exc.start}") from None
    problem = "the file is empty (a header row is required)" if not names else check_header(names, kind.columns)
    if problem:
        raise StartupError(f"{kind.name} file: {problem}", code=2)
    present = {name.strip() for name in names or ()}
    return [column.name for column in kind.columns if column.name in present]


def read_rows(kind: Kind, reader: csv.DictReader[str], report: Report) -> Iterator[Row]:
    """The file's valid rows; invalid ones (cells, domain rules, a repeated key) go to ``report``."""
    seen: dict[tuple[Any, ...], int] = {}
    try:
        for index, record in enumerate(reader):
            number = index + 2  # as a spreadsheet numbers it: the header is row 1
            if None in record:  # cells beyond the header
                report.errors.append(RowError(number, "-", "more cells than the header has columns"))
                continue
            row, errors = kind.parse(number, {k.strip(): v for k, v in record.items()})
            if errors:
                report.errors.extend(errors)
                continue
            key = tuple(row.values.get(column) for column in kind.key)
            if key in seen:
                report.errors.append(RowError(number, kind.key[-1], f"repeats row {seen[key]}"))
                continue
            seen[key] = number
            yield row
    except UnicodeDecodeError as exc:
        raise StartupError(f"{kind.name} file is not UTF-8: {exc.reason} at byte {exc.start}") from None
    except csv.Error as exc:
        raise StartupError(f"{kind.name} file: {exc}") from None


async def import_file(url: str, kind_name: str, path: Path, *, batch_size: int = BATCH_SIZE,
                      console: Console | None = None) -> Report:
    """Import ``path`` as ``kind_name`` into the database at ``url``; the report of what happened."""
    kind = KINDS[kind_name]
    console = console or Console(stderr=True)
    report = Report(kind_name)
    started = time.monotonic()
    total = _count_lines(path)
    await check_database(url)
    engine = make_engine(url, pool_size=1)
    sessions = make_sessionmaker(engine)
    try:
        with _open(path) as file:
            reader = csv.DictReader(file, strict=False)
            columns = header(kind, reader)  # before the bar: a refused file is one line
            rows = read_rows(kind, reader, report)
            with _progress(console) as progress:
                task = progress.add_task(f"import {kind_name}", total=total)
                if kind_name == "boms":
                    groups = boms.group_by_parent(list(rows))
                    for batch in _batches(groups, max(batch_size // 10, 1)):
                        report.add(await _apply_boms(sessions, batch))
                        progress.advance(task, sum(len(group) for group in batch))
                else:
                    for batch in _batches(rows, batch_size):
                        report.add(await _apply(sessions, kind_name, columns, batch))
                        progress.advance(task, len(batch))
                progress.update(task, completed=total)
    finally:
        await engine.dispose()
    report.errors.sort(key=lambda e: e.row)
    report.seconds = time.monotonic() - started
    return report


def _batches(items: Any, size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _apply(sessions: async_sessionmaker[AsyncSession], kind_name: str, columns: Sequence[str],
                 batch: list[Row]) -> upsert.Outcome:
    try:
        return await _apply_once(sessions, kind_name, columns, batch)
    except DBAPIError as exc:
        if len(batch) == 1:
            reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
            return upsert.Outcome(errors=[RowError(batch[0].number, "-", f"refused by the database: {reason}")])
    # one row refused the batch: find it (and apply the others) row by row
    outcome = upsert.Outcome(errors=[])
    for row in batch:
        one = await _apply(sessions, kind_name, columns, [row])
        outcome.created += one.created
        outcome.updated += one.updated
        outcome.unchanged += one.unchanged
        outcome.errors = [*(outcome.errors or ()), *(one.errors or ())]
    return outcome


async def _apply_once(sessions: async_sessionmaker[AsyncSession], kind_name: str, columns: Sequence[str],
                      batch: list[Row]) -> upsert.Outcome:
    async with sessions.begin() as session:
        if kind_name == "stock":
            await stock.lock_counts(session)
            return await stock.apply_counts(session, batch, ACTOR)
        return await upsert.apply(session, upsert.TARGETS[kind_name], columns, batch, ACTOR)


async def _apply_boms(sessions: async_sessionmaker[AsyncSession], groups: list[boms.Group]) -> upsert.Outcome:
    async with sessions.begin() as session:
        return await boms.apply_boms(session, groups, ACTOR)


def print_report(report: Report, console: Console, errors_path: Path | None) -> None:
    """The summary and the error table (row, column, reason); ``errors_path`` gets them as CSV."""
    from rich.table import Table

    if report.errors:
        table = Table("row", "column", "reason", title=f"{report.refused_rows} rows refused", title_justify="left")
        for error in report.errors:
            table.add_row(str(error.row), error.column, error.reason)
        console.print(table)
    console.print(report.summary(), highlight=False)
    if errors_path is not None:
        try:
            with open(errors_path, "w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(("row", "column", "reason"))
                writer.writerows((e.row, e.column, e.reason) for e in report.errors)
        except OSError as exc:
            raise StartupError(f"cannot write {errors_path}: {exc.strerror}") from None


def cell(value: Any) -> str:
    """A value as the import reads it back: '' for none, Decimals with '.' and no exponent, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = f"{value.normalize():f}"
        return "0" if text in ("-0", "0") else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


async def export_file(url: str, kind: str, path: Path, *, console: Console | None = None) -> int:
    """Write ``kind`` to ``path`` as CSV; the number of rows written."""
    console = console or Console(stderr=True)
    await check_database(url)
    engine = make_engine(url, pool_size=1)
    written = 0
    try:
        # REPEATABLE READ: the count and the rows come from one snapshot
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            total = await exports.count(session, kind)
            with _create(path) as file, _progress(console) as progress:
                task = progress.add_task(f"export {kind}", total=total)
                writer = csv.writer(file)
                columns = exports.COLUMNS[kind]
                writer.writerow(columns)
                async for row in exports.stream(session, kind):
                    writer.writerow([cell(row[c]) for c in columns])
                    written += 1
                    if written % 1000 == 0:
                        progress.advance(task, 1000)
                progress.update(task, completed=written)
    finally:
        await engine.dispose()
    return written
