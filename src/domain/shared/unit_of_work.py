"""One unit of work per command: one transaction, committed only if the work finishes.

A mutation or a job step opens it, hands the use case its session (with who acts and
what day it is), and leaves: the block commits when it ends and rolls everything back
when it raises, so a failed command changes nothing (cosmicpython's ``unit_of_work``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from domain.shared.db import SessionMaker


@dataclass(frozen=True, slots=True)
class UnitOfWork:
    """What a use case needs of the command it runs in."""

    session: AsyncSession
    actor: str | None
    today: date


@contextlib.asynccontextmanager
async def unit_of_work(
    sessionmaker: SessionMaker, *, actor: str | None, today: date | None = None
) -> AsyncIterator[UnitOfWork]:
    """A transaction for one command: commits at the end of the block, rolls back if it raises.

    The connection is taken at the first statement, so a command refused by its own
    checks before touching the database costs none.
    """
    async with sessionmaker.begin() as session:
        yield UnitOfWork(session, actor, today or date.today())
