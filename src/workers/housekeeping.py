"""Periodic clean-up on the worker: what expires is deleted, so tables do not only grow."""

from __future__ import annotations

import logging
from typing import Any

from domain.integration import idempotency
from domain.shared.db import SessionMaker
from domain.shared.unit_of_work import unit_of_work
from workers.jobs import WORKER

logger = logging.getLogger(__name__)


async def purge_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Delete Idempotency-Key rows past their 24 hours (their keys are free again); how many."""
    sessionmaker: SessionMaker = ctx["sessionmaker"]
    async with unit_of_work(sessionmaker, actor=WORKER) as uow:
        purged = await idempotency.purge_expired(uow.session)
    if purged:
        logger.info("purged %s expired idempotency keys", purged)
    return purged
