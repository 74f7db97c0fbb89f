"""DataLoaders of the sales pipeline (leads, opportunities, their lines and activities)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from api.loaders import counts_by, many_by, one_by, pages_by
from domain.crm.models import Activity, Lead, Opportunity, OpportunityLine


class PipelineLoaders:
    def __init__(self, sm: async_sessionmaker) -> None:
        self.lead = one_by(sm, Lead, Lead.id)
        self.opportunity = one_by(sm, Opportunity, Opportunity.id)
        self.opportunity_lines = many_by(
            sm, OpportunityLine, OpportunityLine.opportunity_id, OpportunityLine.position
        )
        self.activity = one_by(sm, Activity, Activity.id)
        self.activities = many_by(sm, Activity, Activity.opportunity_id, Activity.id)
        self.customer_page = pages_by(sm, Opportunity, Opportunity.customer_id)
        self.customer_count = counts_by(sm, Opportunity, Opportunity.customer_id)
