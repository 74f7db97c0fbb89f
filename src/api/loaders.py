"""The request's DataLoaders, one typed group per bounded context.

``info.context.loaders.sales.order.load(pk)`` is checked by mypy end to end. A group is
built on first use, so a request pays only for the contexts it reads. The factories
live in ``api.dataloaders``; each context's loaders in its own ``loaders.py``.
"""

from __future__ import annotations

from functools import cached_property

from api.costing.loaders import CostingLoaders
from api.crm.loaders import CrmLoaders
from api.finance.loaders import FinanceLoaders
from api.integration.loaders import IntegrationLoaders
from api.inventory.loaders import InventoryLoaders
from api.planning.loaders import PlanningLoaders
from api.production.loaders import ProductionLoaders
from api.purchasing.loaders import PurchasingLoaders
from api.sales.loaders import SalesLoaders
from domain.shared.db import SessionMaker


class Loaders:
    def __init__(self, sm: SessionMaker) -> None:
        self._sm = sm

    @cached_property
    def crm(self) -> CrmLoaders:
        return CrmLoaders(self._sm)

    @cached_property
    def inventory(self) -> InventoryLoaders:
        return InventoryLoaders(self._sm)

    @cached_property
    def sales(self) -> SalesLoaders:
        return SalesLoaders(self._sm)

    @cached_property
    def finance(self) -> FinanceLoaders:
        return FinanceLoaders(self._sm)

    @cached_property
    def purchasing(self) -> PurchasingLoaders:
        return PurchasingLoaders(self._sm)

    @cached_property
    def production(self) -> ProductionLoaders:
        return ProductionLoaders(self._sm)

    @cached_property
    def planning(self) -> PlanningLoaders:
        return PlanningLoaders(self._sm)

    @cached_property
    def costing(self) -> CostingLoaders:
        return CostingLoaders(self._sm)

    @cached_property
    def integration(self) -> IntegrationLoaders:
        return IntegrationLoaders(self._sm)
