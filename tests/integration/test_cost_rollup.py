"""BOM cost roll-up through the API: Item.bomCost now, the runCostRollup job, costing:read hiding."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from domain.costing.models import CostRollup
from erpgraph.settings import Settings
from tests.integration.helpers import create_item, create_warehouse
from tests.integration.mrp_helpers import wait_for_job, worker
from tests.integration.sales_helpers import pk

ERRORS = "errors { code field message }"
SET_BOM = """
mutation($itemId: ID!, $input: BomInput!) { setBom(itemId: $itemId, input: $input) { errors { code field message } } }
"""
ADJUST = """
mutation($input: StockAdjustmentInput!) { adjustStock(input: $input) { errors { code field message } } }
"""
BOM_COST = """
query($id: ID!) { item(id: $id) { sku standardCost
  bomCost { unitCost lines { component { sku } quantity unitCost extendedCost } }
  rolledUpCost { unitCost computedAt } } }
"""
RUN = "mutation { runCostRollup { job { id kind status } " + ERRORS + " } }"


async def set_bom(gql: Any, item: str, lines: list[tuple[str, str, str]], output: str = "1") -> None:
    body = await gql(SET_BOM, {"itemId": item, "input": {"outputQuantity": output, "lines": [
        {"componentId": c, "quantity": q, "scrapRate": s} for c, q, s in lines]}})
    assert body["data"]["setBom"]["errors"] == [], body


async def receive(gql: Any, item: str, quantity: str, unit_cost: str) -> None:
    body = await gql(ADJUST, {"input": {"itemId": item, "quantity": quantity, "reason": "count",
                                        "unitCost": unit_cost}})
    assert body["data"]["adjustStock"]["errors"] == [], body


async def three_levels(gql: Any, sessionmaker: Any) -> dict[str, str]:
    """T (MAKE, scrap 5%) = 2 S (line scrap 2%) + 0.5 R1 + 4 R3;
    S (MAKE, scrap 20%, BOM output 2) = 3 R1 (line scrap 10%) + 1 R2;
    R1 received at 2.00 (standard cost 9.99, not used); R2 no stock, standard cost 5.00; R3 neither."""
    await create_warehouse(sessionmaker, "MAIN", default=True)
    ids = {
        "R1": await create_item(gql, "R1", standardCost="9.99"),
        "R2": await create_item(gql, "R2", standardCost="5.00"),
        "R3": await create_item(gql, "R3"),
        "S": await create_item(gql, "S", kind="SEMI_FINISHED", procurement="MAKE", scrapRate="0.2"),
        "T": await create_item(gql, "T", kind="FINISHED", procurement="MAKE", scrapRate="0.05", listPrice="40"),
    }
    await receive(gql, ids["R1"], "10", "2.00")
    await set_bom(gql, ids["S"], [(ids["R1"], "3", "0.1"), (ids["R2"], "1", "0")], output="2")
    await set_bom(gql, ids["T"], [(ids["S"], "2", "0.02"), (ids["R1"], "0.5", "0"), (ids["R3"], "4", "0")])
    return ids


async def item_costs(gql: Any, item: str, token: str | None = None) -> dict[str, Any]:
    return dict((await gql(BOM_COST, {"id": item}, token=token))["data"]["item"])


async def test_bom_cost_is_the_hand_computed_rollup(gql: Any, sessionmaker: Any) -> None:
    """S = (3 × 1.1 × 2.00 + 1 × 5.00) / 2 / 0.8 = 11.6 / 1.6 = 7.25;
    T = (2 × 1.02 × 7.25 + 0.5 × 2.00 + 4 × 0) / 0.95 = 15.79 / 0.95 = 16.6210526316 (10 places).
    Lines of T per good unit: S 2.04 / 0.95 = 2.1473684211 × 7.25 = 15.5684210526(3) + the residue
    1e-10 (largest line) = 15.5684210527; R1 0.5 / 0.95 = 0.5263157895 × 2 = 1.0526315789; R3 0."""
    ids = await three_levels(gql, sessionmaker)
    t = await item_costs(gql, ids["T"])
    assert Decimal(t["bomCost"]["unitCost"]) == Decimal("16.6210526316")
    assert [
        (line["component"]["sku"], *(Decimal(line[k]) for k in ("quantity", "unitCost", "extendedCost")))
        for line in t["bomCost"]["lines"]
    ] == [
        ("S", Decimal("2.1473684211"), Decimal("7.25"), Decimal("15.5684210527")),
        ("R1", Decimal("0.5263157895"), Decimal("2"), Decimal("1.0526315789")),
        ("R3", Decimal("4.2105263158"), Decimal("0"), Decimal("0")),
    ]
    assert sum(Decimal(line["extendedCost"]) for line in t["bomCost"]["lines"]) == Decimal("16.6210526316")
    s = await item_costs(gql, ids["S"])
    assert Decimal(s["bomCost"]["unitCost"]) == Decimal("7.25")
    assert [Decimal(line["unitCost"]) for line in s["bomCost"]["lines"]] == [Decimal(2), Decimal(5)]
    assert (await item_costs(gql, ids["R1"]))["bomCost"] is None  # no BOM
    assert t["rolledUpCost"] is None  # no roll-up yet


async def test_costs_are_hidden_without_costing_read(gql: Any, sessionmaker: Any, make_token: Any) -> None:
    ids = await three_levels(gql, sessionmaker)
    sales = await make_token("sales")
    hidden = await item_costs(gql, ids["T"], token=sales)
    assert hidden == {"sku": "T", "standardCost": None, "bomCost": None, "rolledUpCost": None}
    refused = (await gql(RUN, token=sales))["data"]["runCostRollup"]
    assert refused["job"] is None and refused["errors"][0]["code"] == "FORBIDDEN"


async def run_rollup(gql: Any, settings: Settings) -> str:
    payload = (await gql(RUN))["data"]["runCostRollup"]
    assert payload["errors"] == [] and payload["job"]["kind"] == "COST_ROLLUP", payload
    async with worker(settings):
        job = await wait_for_job(gql, payload["job"]["id"])
    assert job["status"] == "SUCCEEDED", job
    assert job["message"] == "rolled up 2 items with a BOM"
    return str(payload["job"]["id"])


async def saved(sessionmaker: Any) -> dict[int, tuple[Decimal, int]]:
    async with sessionmaker() as session:
        rows = await session.execute(select(CostRollup.item_id, CostRollup.unit_cost, CostRollup.job_id))
        return {item_id: (unit_cost, job_id) for item_id, unit_cost, job_id in rows}


async def test_the_job_saves_what_bom_cost_shows_and_a_rerun_replaces_it(
    gql: Any, sessionmaker: Any, settings: Settings
) -> None:
    """Run 1: S 7.25, T 16.6210526316, as bomCost. Then 10 more R1 arrive at 4.00: R1's average
    = (10 × 2 + 10 × 4) / 20 = 3.00; S = (3 × 1.1 × 3 + 5) / 1.6 = 14.9 / 1.6 = 9.3125;
    T = (2.04 × 9.3125 + 0.5 × 3) / 0.95 = (18.9975 + 1.5) / 0.95 = 20.4975 / 0.95 = 21.5763157895.
    Run 2 replaces both rows (same items, the second job's id)."""
    ids = await three_levels(gql, sessionmaker)
    first = await run_rollup(gql, settings)
    for sku, expected in (("S", "7.25"), ("T", "16.6210526316")):
        costs = await item_costs(gql, ids[sku])
        assert Decimal(costs["rolledUpCost"]["unitCost"]) == Decimal(expected)
        assert Decimal(costs["rolledUpCost"]["unitCost"]) == Decimal(costs["bomCost"]["unitCost"])
    assert (await item_costs(gql, ids["R1"]))["rolledUpCost"] is None
    before = await item_costs(gql, ids["T"])

    await receive(gql, ids["R1"], "10", "4.00")
    second = await run_rollup(gql, settings)
    after = {sku: await item_costs(gql, ids[sku]) for sku in ("S", "T")}
    assert Decimal(after["S"]["rolledUpCost"]["unitCost"]) == Decimal("9.3125")
    assert Decimal(after["T"]["rolledUpCost"]["unitCost"]) == Decimal("21.5763157895")
    for costs in after.values():
        assert Decimal(costs["rolledUpCost"]["unitCost"]) == Decimal(costs["bomCost"]["unitCost"])
    assert after["T"]["rolledUpCost"]["computedAt"] > before["rolledUpCost"]["computedAt"]
    rows = await saved(sessionmaker)
    assert set(rows) == {pk(ids["S"]), pk(ids["T"])}
    assert {job for _, job in rows.values()} == {pk(second)} != {pk(first)}
