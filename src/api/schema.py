"""The schema: every context's roots merged, with limits and production hardening."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError, ValueNode
from strawberry.extensions import DisableIntrospection, MaskErrors
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from api.compiled.extension import CompiledReads
from api.costing.mutations import CostingMutation
from api.crm.contact_mutations import ContactMutation
from api.crm.mutations import CrmMutation
from api.crm.pipeline_mutations import PipelineMutation
from api.crm.pipeline_queries import PipelineQuery
from api.crm.pipeline_types import Activity, Lead, Opportunity
from api.crm.queries import CrmQuery
from api.crm.types import Contact, Customer
from api.document_cache import document_cache_extensions
from api.errors import DomainErrors, timed_out
from api.finance.mutations import FinanceMutation
from api.finance.queries import FinanceQuery
from api.finance.types import CreditNote, Invoice, Payment
from api.integration.mutations import IntegrationMutation
from api.integration.webhook_mutations import WebhookMutation
from api.integration.webhook_queries import WebhookQuery
from api.inventory.mutations import InventoryMutation
from api.inventory.queries import InventoryQuery
from api.inventory.types import Item, Warehouse
from api.limits import InputBounds, limit_extensions
from api.list_maxima import ListMaxima
from api.node import NodeQuery
from api.operations import OneOperation
from api.planning.mutations import PlanningMutation
from api.planning.queries import PlanningQuery
from api.planning.subscriptions import PlanningSubscription
from api.planning.types import Job, MrpRun, PlannedOrder
from api.production.mutations import ProductionMutation
from api.production.queries import ProductionQuery
from api.production.types import WorkOrder
from api.purchasing.mutations import PurchasingMutation
from api.purchasing.queries import PurchasingQuery
from api.purchasing.supplier_types import Supplier
from api.purchasing.types import PurchaseOrder
from api.sales.fulfilment import FulfilmentMutation, Shipment
from api.sales.fulfilment_queries import FulfilmentQuery
from api.sales.mutations import SalesMutation
from api.sales.queries import SalesQuery
from api.sales.subscriptions import SalesSubscription
from api.scalars import SCALAR_MAP
from api.text import TextGuard
from domain.shared.errors import DomainError, ErrorCode
from erpgraph.settings import Settings

Query = merge_types("Query", (NodeQuery, CrmQuery, PipelineQuery, InventoryQuery, SalesQuery, FulfilmentQuery,
                             FinanceQuery, ProductionQuery, PlanningQuery, PurchasingQuery, WebhookQuery))
Subscription = merge_types("Subscription", (SalesSubscription, PlanningSubscription))
Mutation = merge_types("Mutation", (CrmMutation, ContactMutation, PipelineMutation, InventoryMutation, SalesMutation,
                                   FulfilmentMutation, FinanceMutation, PurchasingMutation,
                                   ProductionMutation, PlanningMutation, CostingMutation, IntegrationMutation,
                                   WebhookMutation))

NODE_IMPLEMENTATIONS = [Customer, Contact, Lead, Opportunity, Activity, Item, Warehouse,
                        Invoice, Payment, CreditNote, Shipment, Supplier, PurchaseOrder, WorkOrder, Job, MrpRun,
                        PlannedOrder]


def _expected_error(error: Any) -> bool:
    """Errors clients caused (validation, limits, permissions) stay visible in production."""
    original = error.original_error
    return original is None or isinstance(original, (GraphQLError, DomainError, PermissionError)) or timed_out(error)


# graphql-core's suggestions: fields, arguments, types, enum values, input fields, in
# validation and in variable coercion alike; always the last sentence of the message.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def _give_code(error: GraphQLError, execution_context: Any) -> None:
    """Every request error says what kind it is in ``extensions.code``, as domain errors do.

    Only errors graphql-core raised itself (no exception behind them, no path): parse and
    validation failures, and variables that do not coerce (reported once execution
    began: the result is set by then), which are INVALID like the scalars' own refusals.
    (A subscription's variables are coerced before that point: GRAPHQL_VALIDATION_FAILED.)
    """
    wrapped = error.original_error
    if wrapped is not None and not isinstance(wrapped, GraphQLError):
        nodes = error.nodes or []
        if not nodes or not all(isinstance(node, ValueNode) for node in nodes):
            return  # a resolver's exception: DomainErrors maps domain errors, MaskErrors hides the rest
        # Located at a literal of the document: one Python cannot convert (an Int of 5,000
        # digits) is the client's error, shown, not masked or logged as a server fault.
        error.original_error = None
    if error.path is not None or "code" in (error.extensions or {}):
        return
    started = execution_context is not None and getattr(execution_context, "result", None) is not None
    if error.message.startswith("Syntax Error"):
        code = "GRAPHQL_PARSE_FAILED"
    elif started:
        code = ErrorCode.INVALID.value
    else:
        code = "GRAPHQL_VALIDATION_FAILED"
    error.extensions = {**(error.extensions or {}), "code": code}


class Schema(strawberry.Schema):
    # Production tells no one the names it did not match (set by build_schema).
    hide_suggestions = False

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log only unexpected errors; a client's bad query is not a server fault.

        Every error of a request passes here before it is returned, which makes it the
        one place to drop suggestions ("Did you mean ...?") in production.
        """
        for error in errors:
            if self.hide_suggestions and "Did you mean" in error.message:
                error.message = _SUGGESTION.sub("", error.message)
            _give_code(error, execution_context)
        unexpected = [error for error in errors if not _expected_error(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings, list_maxima: ListMaxima | None = None) -> strawberry.Schema:
    extensions: list[Any] = document_cache_extensions() + limit_extensions(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_cost=settings.max_cost,
        bounds=InputBounds(
            max_lines=settings.max_lines,
            max_search_length=settings.max_search_length,
            max_list_entries=settings.max_list_entries,
            real_maximum=list_maxima.get if list_maxima is not None else None,
        ),
    ) + [OneOperation, TextGuard, DomainErrors, CompiledReads]  # CompiledReads last: after every refusal
    if settings.production:
        # factories, not instances: an extension keeps the operation it serves on self
        extensions += [DisableIntrospection, partial(MaskErrors, should_mask_error=lambda e: not _expected_error(e))]
    built = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_IMPLEMENTATIONS,
        extensions=extensions,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP, disable_field_suggestions=settings.production
        ),
    )
    built.hide_suggestions = settings.production
    return built


schema = build_schema(Settings(ERPGRAPH_ENV="development"))
