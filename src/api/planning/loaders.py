"""DataLoaders of the planning context (runs, planned orders, pegging, messages, jobs)."""

from __future__ import annotations

from api.dataloaders import many_by, one_by
from domain.jobs.models import Job
from domain.planning.models import MrpRun, Pegging, PlannedOrder, PlanningMessage
from domain.shared.db import SessionMaker


class PlanningLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.job = one_by(sm, Job, Job.id)
        self.run = one_by(sm, MrpRun, MrpRun.id)
        self.planned_order = one_by(sm, PlannedOrder, PlannedOrder.id)
        self.pegging = many_by(sm, Pegging, Pegging.planned_order_id, Pegging.position)
        self.messages = many_by(sm, PlanningMessage, PlanningMessage.run_id, PlanningMessage.id)
