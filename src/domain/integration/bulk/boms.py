"""BOM lines: the file's lines of a parent item replace that item's BOM.

Rows are grouped by parent SKU; each parent goes through ``set_bom`` (its line rules
and the cycle check at any depth) in its own savepoint, so a parent's BOM is replaced
whole or not at all: one bad line leaves the parent's BOM as it was and every row of
that parent is reported. A parent whose BOM already equals the file's lines (same
components in the same order, quantities, scrap rates and output quantity) is not
touched: no new version, no ``bom.set`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.integration.bulk.rows import Row, RowError
from domain.integration.bulk.upsert import Outcome
from domain.inventory.models import Bom, BomLine, Item
from domain.inventory.services import NewBomLine, set_bom
from domain.shared.errors import DomainError

Group = list[Row]


def group_by_parent(rows: Sequence[Row]) -> list[Group]:
    """The rows per parent SKU, parents in order of first appearance."""
    groups: dict[str, Group] = {}
    for row in rows:
        groups.setdefault(row.values["parent_sku"], []).append(row)
    return list(groups.values())


async def apply_boms(session: AsyncSession, groups: Sequence[Group], actor: str) -> Outcome:
    """Replace each parent's BOM by its group's lines (``updated`` counts parents, not rows)."""
    skus = {row.values[c] for group in groups for row in group for c in ("parent_sku", "component_sku")}
    ids = dict((await session.execute(select(Item.sku, Item.id).where(Item.sku.in_(sorted(skus))))).tuples().all())
    outcome = Outcome(errors=[])
    assert outcome.errors is not None
    for group in groups:
        errors = _resolve(group, ids)
        if not errors:
            errors = await _apply(session, group, ids, actor, outcome)
        if errors:
            outcome.errors.extend(_whole_group(group, errors))
    return outcome


def _resolve(group: Group, ids: dict[str, int]) -> list[RowError]:
    errors = []
    for row in group:
        for column in ("parent_sku", "component_sku"):
            if row.values[column] not in ids:
                errors.append(RowError(row.number, column, f"item {row.values[column]!r} not found"))
    outputs = {row.values.get("output_quantity", Decimal(1)) for row in group}
    if len(outputs) > 1:
        errors.append(RowError(group[-1].number, "output_quantity",
                               "differs between the lines of one parent"))
    return errors


async def _apply(
    session: AsyncSession, group: Group, ids: dict[str, int], actor: str, outcome: Outcome
) -> list[RowError]:
    parent = ids[group[0].values["parent_sku"]]
    output = group[0].values.get("output_quantity", Decimal(1))
    lines = [NewBomLine(ids[r.values["component_sku"]], r.values["quantity"], r.values.get("scrap_rate", Decimal(0)))
             for r in group]
    if await _same(session, parent, lines, output):
        outcome.unchanged += 1
        return []
    try:
        async with session.begin_nested():
            await set_bom(session, parent, lines, output, actor)
    except DomainError as exc:
        errors = []
        for problem in exc.problems:
            path = problem.field or ()
            if len(path) >= 2 and path[0] == "lines" and path[1].isdigit():
                errors.append(RowError(group[int(path[1])].number, "component_sku", problem.message))
            else:
                errors.append(RowError(group[0].number, "parent_sku", problem.message))
        return errors
    outcome.updated += 1
    return []


async def _same(session: AsyncSession, parent: int, lines: list[NewBomLine], output: Decimal) -> bool:
    bom = await session.get(Bom, parent)
    if bom is None or bom.output_quantity != output:
        return False
    current = (await session.execute(
        select(BomLine.component_id, BomLine.quantity, BomLine.scrap_rate)
        .where(BomLine.bom_item_id == parent).order_by(BomLine.position)
    )).tuples().all()
    wanted = [(line.component_id, line.quantity, line.scrap_rate or Decimal(0)) for line in lines]
    return list(current) == wanted


def _whole_group(group: Group, errors: list[RowError]) -> list[RowError]:
    """The errors, plus one for every other row of the parent: none of its lines was applied."""
    wrong = {error.row for error in errors}
    first = min(wrong)
    others = [RowError(row.number, "parent_sku", f"not applied: row {first} of this BOM is wrong")
              for row in group if row.number not in wrong]
    return sorted(errors + others, key=lambda e: e.row)
