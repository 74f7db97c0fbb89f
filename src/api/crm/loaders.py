"""DataLoaders of the CRM context: customers, contacts, and the pipeline (leads, opportunities, activities)."""

from __future__ import annotations

from api.dataloaders import counts_by, many_by, one_by, pages_by
from domain.crm.models import (
    Activity,
    Contact,
    CreditLimitChange,
    Customer,
    Lead,
    Opportunity,
    OpportunityLine,
)
from domain.shared.db import SessionMaker


class CrmLoaders:
    def __init__(self, sm: SessionMaker) -> None:
        self.customer = one_by(sm, Customer, Customer.id)
        self.contact = one_by(sm, Contact, Contact.id)
        self.contacts_by_customer = many_by(sm, Contact, Contact.customer_id, Contact.id)
        self.contacts_by_supplier = many_by(sm, Contact, Contact.supplier_id, Contact.id)
        self.lead = one_by(sm, Lead, Lead.id)
        self.opportunity = one_by(sm, Opportunity, Opportunity.id)
        self.opportunity_lines = many_by(
            sm, OpportunityLine, OpportunityLine.opportunity_id, OpportunityLine.position
        )
        self.activity = one_by(sm, Activity, Activity.id)
        self.activities = many_by(sm, Activity, Activity.opportunity_id, Activity.id)
        self.customer_opportunities = pages_by(sm, Opportunity, Opportunity.customer_id)
        self.customer_opportunity_count = counts_by(sm, Opportunity.customer_id)
        # oldest first: Customer.creditLimitHistory reverses it
        self.credit_limit_history = many_by(sm, CreditLimitChange, CreditLimitChange.customer_id, CreditLimitChange.id)
