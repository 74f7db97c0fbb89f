"""Roles and the scopes they grant. Permissions are declared against scopes, never roles."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    CRM_READ = "crm:read"
    CRM_WRITE = "crm:write"
    SALES_READ = "sales:read"
    SALES_WRITE = "sales:write"
    INVENTORY_READ = "inventory:read"
    INVENTORY_WRITE = "inventory:write"
    PRODUCTION_READ = "production:read"
    PRODUCTION_WRITE = "production:write"
    PURCHASING_READ = "purchasing:read"
    PURCHASING_WRITE = "purchasing:write"
    PLANNING_READ = "planning:read"
    PLANNING_WRITE = "planning:write"
    FINANCE_READ = "finance:read"
    FINANCE_WRITE = "finance:write"
    COSTING_READ = "costing:read"
    COSTING_WRITE = "costing:write"
    INTEGRATION_WRITE = "integration:write"
    # what a partner (an outside system, fenced to its own customers) may not do
    PIPELINE_READ = "pipeline:read"  # leads, opportunities, activities, the pipeline
    PIPELINE_WRITE = "pipeline:write"
    SALES_FULFIL = "sales:fulfil"  # ship, cancel, close short: the company's side of an order
    CREDIT_READ = "credit:read"  # credit positions and the credit-limit history
    PRICING_SIMULATE = "pricing:simulate"  # prices for a target margin: they reveal costs
    ADMIN = "admin"


_READ_MASTER = {Scope.CRM_READ, Scope.INVENTORY_READ, Scope.SALES_READ, Scope.PIPELINE_READ, Scope.CREDIT_READ}

ROLE_SCOPES: dict[str, frozenset[Scope]] = {
    "admin": frozenset(Scope),
    "sales": frozenset(_READ_MASTER | {Scope.CRM_WRITE, Scope.SALES_WRITE, Scope.PRODUCTION_READ}
                           | {Scope.PIPELINE_WRITE, Scope.SALES_FULFIL, Scope.PRICING_SIMULATE}),
    "finance": frozenset(
        _READ_MASTER | {Scope.FINANCE_READ, Scope.FINANCE_WRITE, Scope.COSTING_READ, Scope.COSTING_WRITE}
        | {Scope.PRICING_SIMULATE}
    ),
    "production": frozenset(
        _READ_MASTER
        | {Scope.INVENTORY_WRITE, Scope.PRODUCTION_READ, Scope.PRODUCTION_WRITE, Scope.COSTING_READ}
        | {Scope.PURCHASING_READ, Scope.PURCHASING_WRITE}
    ),
    "planner": frozenset(
        _READ_MASTER
        | {Scope.PRODUCTION_READ, Scope.PLANNING_READ, Scope.PLANNING_WRITE, Scope.INVENTORY_WRITE}
        | {Scope.PURCHASING_READ, Scope.PURCHASING_WRITE}
    ),
    # An outside system: sees and acts only on its own customers (api.fence), never ships,
    # cancels, reads credit positions or the pipeline.
    "partner": frozenset(
        {Scope.CRM_READ, Scope.CRM_WRITE, Scope.SALES_READ, Scope.SALES_WRITE, Scope.INVENTORY_READ,
         Scope.INTEGRATION_WRITE}
    ),
}

ROLES = tuple(ROLE_SCOPES)
# roles whose tokens are bound to one integration (``ApiToken.partner``) and fenced by it
PARTNER_ROLES = frozenset({"partner"})


def scopes_for(role: str) -> frozenset[Scope]:
    return ROLE_SCOPES[role]
