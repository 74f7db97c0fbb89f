"""``Subscription.jobProgress``: the job's state now, then every change until it finishes.

A job's state lives in its row; the worker's ``job.progress`` messages only say
"look again". So the stream re-reads the row on each message and, in case a message
was lost (pub/sub is fire-and-forget), every few seconds anyway. It also notices a
worker that stopped reporting and marks its job FAILED, so no subscriber waits forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Hashable, Iterable

import strawberry
from graphql import GraphQLError

from api.context import Info
from api.events import ROUTES, Event, EventHub, HubUnavailable
from api.permissions import checks
from api.planning.queries import JOB_SCOPES, may_follow
from api.planning.types import Job
from api.relay import from_global_id
from domain.identity.scopes import Scope
from domain.jobs import services as jobs
from domain.jobs.models import Job as JobRow
from domain.jobs.services import JOB_PROGRESS, JobState
from domain.shared.db import SessionMaker
from domain.shared.errors import DomainError, ErrorCode
from domain.shared.unit_of_work import unit_of_work

# re-read the row this often even without a message
POLL_S = 2.0


def _job_routes(event: Event) -> Iterable[Hashable]:
    return [event.entity_id]


ROUTES[JOB_PROGRESS] = _job_routes


async def _current(sessionmaker: SessionMaker, job_id: int, stale_after_s: float) -> JobState | None:
    # a unit of work of its own: a follower notices a lost worker and fails its job
    async with unit_of_work(sessionmaker, actor=None) as uow:
        row = await uow.session.get(JobRow, job_id)
        if row is None:
            return None
        await jobs.fail_if_stale(uow.session, row, stale_after_s)
        return JobState.of(row)


async def job_states(
    hub: EventHub, sessionmaker: SessionMaker, job_id: int, stale_after_s: float
) -> AsyncGenerator[JobState, None]:
    """The job's state, then each change, ending with the finished state."""
    async with hub.subscribe(JOB_PROGRESS, job_id) as subscriber:
        last: JobState | None = None
        while True:
            state = await _current(sessionmaker, job_id, stale_after_s)
            if state is None:
                return
            if state != last:
                yield state
                last = state
            if state.finished:
                return
            if subscriber.lost:
                await asyncio.sleep(POLL_S)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(subscriber.next(), POLL_S)


@strawberry.type
class PlanningSubscription:
    @strawberry.subscription(description="The job's state now, then every change until it SUCCEEDED or FAILED.")
    @checks(per_object=True)
    async def job_progress(self, info: Info, job_id: strawberry.ID) -> AsyncGenerator[Job, None]:
        decoded = from_global_id(job_id)
        context = info.context
        row = None
        if decoded is not None and decoded[0] == "Job":
            row = await context.loaders.planning.job.load(decoded[1])
        if row is None:
            raise DomainError.one(ErrorCode.NOT_FOUND, "job not found", ["jobId"])
        if not may_follow(info, row.kind):
            scope = JOB_SCOPES.get(row.kind, Scope.ADMIN)
            raise GraphQLError(f"FORBIDDEN: needs scope {scope.value}", extensions={"code": "FORBIDDEN"})
        hub: EventHub = context.request.app.state.resources.events
        states = job_states(hub, context.sessionmaker, row.id, context.settings.job_stale_after_s)
        try:
            async for state in states:
                yield Job.from_row(state)
        except HubUnavailable as error:
            raise GraphQLError(str(error), extensions={"code": "UNAVAILABLE"}) from None
        finally:
            await states.aclose()
