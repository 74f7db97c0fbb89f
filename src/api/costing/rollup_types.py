"""Costing types: the BOM cost of an item (now and as last rolled up) and quote simulations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.context import Info
from api.crm.types import Customer
from api.dataloaders import RowOf, present, present_all
from api.errors import UserError
from api.inventory.types import Item
from api.permissions import visible_with
from domain.costing import models as m
from domain.costing.rollup import Breakdown
from domain.costing.target_margin import PricedForMargin, Simulation
from domain.identity.scopes import Scope
from domain.inventory.models import Item as ItemRow


@strawberry.type(description=(
    "One BOM line's share of its parent's unit cost. quantity is the component used per ONE good unit "
    "of the parent with both scraps applied: BOM quantity × (1 + line scrap) / outputQuantity / "
    "(1 − parent scrap), to 10 places. extendedCost = quantity × unitCost before rounding; the lines' "
    "extendedCost add up to BomCost.unitCost exactly (the last 10th-place residue of the rounding goes "
    "to the largest line)."
))
class BomCostLine:
    component_row: strawberry.Private[RowOf[ItemRow]]
    quantity: Decimal
    unit_cost: Decimal = strawberry.field(description=(
        "The component's unit cost now: its own roll-up when it is made (it has a BOM and is not BUY), "
        "else its average cost, else its standard cost, else 0."
    ))
    extended_cost: Decimal

    @strawberry.field
    def component(self) -> Item:
        return Item.from_row(self.component_row)


@strawberry.type(description=(
    "Material cost of one good unit of the item from its BOM, rolled up now from current costs "
    "(Σ lines' extendedCost), to 10 places."
))
class BomCost:
    unit_cost: Decimal
    lines: list[BomCostLine]

    @classmethod
    async def load(cls, info: Info, item_id: int) -> BomCost | None:
        found = await info.context.loaders.costing.bom_cost.load(item_id)
        return None if found is None else await cls.of(info, found)

    @classmethod
    async def of(cls, info: Info, found: Breakdown) -> BomCost:
        components = present_all(await info.context.loaders.inventory.item.load_many(
            [line.component_id for line in found.lines]
        ))
        return cls(unit_cost=found.unit_cost, lines=[
            BomCostLine(component_row=row, quantity=line.quantity, unit_cost=line.unit_cost,
                        extended_cost=line.extended_cost)
            for line, row in zip(found.lines, components, strict=True)
        ])


@strawberry.type(description="The item's unit cost from the last cost roll-up job (runCostRollup).")
class RolledUpCost:
    unit_cost: Decimal = strawberry.field(description="As BomCost.unitCost at the time of the roll-up.")
    computed_at: datetime

    @classmethod
    async def load(cls, info: Info, item_id: int) -> RolledUpCost | None:
        row: RowOf[m.CostRollup] | None = await info.context.loaders.costing.rolled_up.load(item_id)
        return None if row is None else cls(unit_cost=row.unit_cost, computed_at=row.computed_at)


@strawberry.type
class SimulatedQuoteLine:
    line: strawberry.Private[PricedForMargin]
    quantity: Decimal
    unit_price: Decimal = strawberry.field(description="unitCost / (1 − targetMarginPercent/100), to cents.")
    line_total: Decimal = strawberry.field(description="quantity × unitPrice, to cents.")

    @strawberry.field
    async def item(self, info: Info) -> Item:
        return Item.from_row(present(await info.context.loaders.inventory.item.load(self.line.item_id)))

    @strawberry.field(description=(
        "The cost priced from, to 10 places: a made item's roll-up now (as Item.bomCost), a bought "
        "item's unit cost now. Null unless the viewer may see costs."
    ))
    @visible_with(Scope.COSTING_READ)
    def unit_cost(self, info: Info) -> Decimal | None:
        return self.line.unit_cost


@strawberry.type(description="A quote priced for a target margin; nothing is saved.")
class QuoteSimulation:
    result: strawberry.Private[Simulation]
    customer_pk: strawberry.Private[int]
    target_margin_percent: Decimal
    lines: list[SimulatedQuoteLine]
    revenue: Decimal = strawberry.field(description="Σ lineTotal.")

    @strawberry.field
    async def customer(self, info: Info) -> Customer:
        return Customer.from_row(present(await info.context.loaders.crm.customer.load(self.customer_pk)))

    @strawberry.field(description="Σ quantity × unitCost, to cents. Null unless the viewer may see costs.")
    @visible_with(Scope.COSTING_READ)
    def cost(self, info: Info) -> Decimal | None:
        return self.result.cost

    @strawberry.field(description="revenue − cost. Null unless the viewer may see costs.")
    @visible_with(Scope.COSTING_READ)
    def margin(self, info: Info) -> Decimal | None:
        return self.result.margin

    @strawberry.field(description=(
        "The margin achieved after rounding the prices: margin / revenue × 100, 0-100, to 2 places; "
        "null when the revenue is 0, or unless the viewer may see costs."
    ))
    @visible_with(Scope.COSTING_READ)
    def margin_percent(self, info: Info) -> Decimal | None:
        return self.result.margin_percent

    @classmethod
    def of(cls, customer_id: int, target: Decimal, result: Simulation) -> QuoteSimulation:
        return cls(
            result=result, customer_pk=customer_id, target_margin_percent=target, revenue=result.revenue,
            lines=[SimulatedQuoteLine(line=line, quantity=line.quantity, unit_price=line.unit_price,
                                      line_total=line.line_total) for line in result.lines],
        )


@strawberry.type
class QuoteSimulationPayload:
    simulation: QuoteSimulation | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
