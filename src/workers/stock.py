"""The ``allocate_stock`` arq job: backorders take the stock a committed command freed.

Queued by the outbox relay for each ``stock.freed`` event; the allocation is read from
the ledger under its locks, so a job run twice (arq runs jobs at least once) reserves
nothing the second time. A deadlock or serialization failure is retried shortly.
"""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry
from sqlalchemy.exc import DBAPIError

from domain.sales.backorders import allocate_backorders
from domain.shared.db import SessionMaker
from domain.shared.unit_of_work import unit_of_work

logger = logging.getLogger(__name__)

ALLOCATION_ACTOR = "stock allocation"
MAX_TRIES = 5


async def allocate_stock(ctx: dict[str, Any], item_ids: list[int], source: str, event_id: int) -> int:
    """Reserve freed stock of ``item_ids`` for waiting lines; the number of lines served.

    ``source`` and ``event_id`` are those of the ``stock.freed`` event that queued the job.
    """
    sessionmaker: SessionMaker = ctx["sessionmaker"]
    try:
        async with unit_of_work(sessionmaker, actor=ALLOCATION_ACTOR) as uow:
            allocations = await allocate_backorders(
                uow.session, item_ids, today=uow.today, source=source, since=event_id, actor=uow.actor
            )
    except DBAPIError as exc:  # e.g. a lock timeout against a long command: try again
        tries = int(ctx.get("job_try", 1))
        logger.warning("allocation of items %s failed (try %s): %s", item_ids, tries, exc.orig)
        raise Retry(defer=tries) from exc
    if allocations:
        logger.info("allocated %s line(s) of items %s from %s", len(allocations), item_ids, source)
    return len(allocations)
