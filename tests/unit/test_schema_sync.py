"""schema.graphql is exported from the code and must match it, and carry the contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api.schema import schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_matches_the_code() -> None:
    exported = schema.as_str() + "\n"
    on_disk = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert on_disk == exported, "schema.graphql is stale: run `erpgraph export-schema`"


def test_contract_parts_of_the_foundation_are_served() -> None:
    checker = ROOT.parent / "shared" / "contract" / "check-contract"
    if not checker.exists():
        import pytest

        pytest.skip("../shared/contract is not beside the project")
    out = subprocess.run(
        [sys.executable, str(checker), str(ROOT / "schema.graphql")],
        capture_output=True, text=True, check=False,
    ).stdout
    foundation = ("Node", "PageInfo", "UserError", "ErrorCode", "Viewer", "Contact", "Warehouse",
                  "StockLevel", "Bom", "BomLine", "Customer.", "Item.", "CustomerInput", "ItemInput",
                  "BomInput", "StockAdjustmentInput", "Query.node", "Query.nodes", "Query.viewer",
                  "Query.customer", "Query.item", "Query.warehouses", "Mutation.createCustomer",
                  "Mutation.updateCustomer", "Mutation.createItem", "Mutation.setBom",
                  "Mutation.adjustStock")
    later = ("Customer.credit", "Customer.opportunities", "Customer.quotes", "Customer.orders",
             "Customer.invoices", "Item.availableToPromise")
    missing = [
        line for line in out.splitlines()
        if any(name in line for name in foundation) and not any(name in line for name in later)
    ]
    assert missing == []


def test_contract_parts_of_plan_to_produce_are_served() -> None:
    import re

    checker = ROOT.parent / "shared" / "contract" / "check-contract"
    if not checker.exists():
        import pytest

        pytest.skip("../shared/contract is not beside the project")
    out = subprocess.run(
        [sys.executable, str(checker), str(ROOT / "schema.graphql")],
        capture_output=True, text=True, check=False,
    ).stdout
    planning = {
        "WorkOrder", "WorkOrderComponent", "PurchaseOrder", "PurchaseOrderLine", "Job", "JobStatus",
        "MrpRun", "PlanningMessage", "PlannedOrder", "PlannedOrderKind", "PlannedOrderStatus",
        "PlannedOrderConnection", "DemandSource", "Pegging", "KittingAnalysis", "KittingLine",
        "MrpRunInput", "MrpRunPayload", "FirmPlannedOrdersPayload", "SalesOrder.workOrders",
        "Query.workOrders", "Query.mrpRun", "Query.latestMrpRun", "Query.plannedOrders",
        "Query.kittingAnalysis", "Query.job", "Mutation.createPurchaseOrder", "Mutation.receivePurchaseOrder",
        "Mutation.createWorkOrder", "Mutation.createWorkOrdersForSalesOrders", "Mutation.releaseWorkOrder",
        "Mutation.issueWorkOrderMaterials", "Mutation.reportProduction", "Mutation.runMrp",
        "Mutation.firmPlannedOrders", "Subscription.jobProgress",
    }
    missing = [line for line in out.splitlines() if planning & set(re.findall(r"\w+(?:\.\w+)?", line))]
    assert missing == []
