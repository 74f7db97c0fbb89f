"""A company's first day on a database set up with `erpgraph migrate` and nothing else.

Everything goes through the graph of a running `erpgraph serve`, with an `erpgraph
worker` beside it: a warehouse, a supplier, an item (then edited), a customer with a
contact, a draft order (then corrected) confirmed into a backorder, a purchase order
(then corrected) received — the worker fills the backorder — a transfer, the
shipment, the invoice, a credit note and the payment that closes the order.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.e2e.processes import cli_env, erpgraph, free_port, post_graphql, running, wait_until_up

ERRORS = "errors { code field message }"


class Graph:
    """One role's view of the running API."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token

    def query(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return dict(post_graphql(self.port, self.token, text, variables)["data"])


def _types(args: str) -> dict[str, str]:
    """The variables' types of ``"id: $id: ID!, input: $input: T!"``."""
    found = {}
    for part in args.split(", "):
        _, variable, kind = (piece.strip() for piece in part.split(":"))
        found[variable.lstrip("$")] = kind
    return found


def _call(args: str) -> str:
    return ", ".join(f"{part.split(':')[0].strip()}: {part.split(':')[1].strip()}" for part in args.split(", "))


def mutation(graph: Graph, name: str, args: str, selection: str, **variables: Any) -> dict[str, Any]:
    """``args`` like ``"input: $input: CustomerInput!"``."""
    signature = ", ".join(f"${key}: {kind}" for key, kind in _types(args).items())
    text = f"mutation({signature}) {{ {name}({_call(args)}) {{ {selection} {ERRORS} }} }}"
    payload = dict(graph.query(text, variables)[name])
    assert payload["errors"] == [], (name, payload["errors"])
    return payload


def token(role: str, env: dict[str, str], cwd: Path) -> str:
    result = erpgraph("token", "create", "--name", f"{role}-desk", "--role", role, env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def until(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_from_an_empty_database_to_a_paid_order(tmp_path: Path, empty_database: str, cli_redis_url: str) -> None:
    env = cli_env(tmp_path, DATABASE_URL=empty_database, REDIS_URL=cli_redis_url, ERPGRAPH_ENV="production",
                  ERPGRAPH_QUEUE_NAME=f"arq:queue:day-one-{tmp_path.name}")
    assert erpgraph("migrate", env=env, cwd=tmp_path).returncode == 0
    tokens = {role: token(role, env, tmp_path) for role in ("admin", "production", "sales", "finance")}
    port = free_port()
    with running(["serve", "--port", str(port)], env, tmp_path) as api, \
            running(["worker"], env, tmp_path) as worker:
        wait_until_up(port, api)
        admin, production, sales, finance = (Graph(port, tokens[role]) for role in tokens)

        # master data, by the people who own it
        main = mutation(admin, "createWarehouse", "input: $input: WarehouseInput!", "warehouse { id code isDefault }",
                        input={"code": "MAIN", "name": "Main warehouse", "isDefault": True})["warehouse"]
        spare = mutation(admin, "createWarehouse", "input: $input: WarehouseInput!", "warehouse { id isDefault }",
                         input={"code": "SPARE", "name": "Overflow"})["warehouse"]
        assert main["isDefault"] and not spare["isDefault"]
        supplier = mutation(production, "createSupplier", "input: $input: SupplierInput!", "supplier { id code }",
                            input={"code": "BELLCO", "name": "Bell Company", "paymentTermsDays": 30})["supplier"]
        item = mutation(admin, "createItem", "input: $input: ItemInput!", "item { id version }", input={
            "sku": "BELL-01", "name": "Bicycle bell", "kind": "RAW_MATERIAL", "procurement": "BUY",
            "leadTimeDays": 5, "listPrice": "10", "defaultSupplierId": supplier["id"]})["item"]
        edited = mutation(admin, "updateItem", "id: $id: ID!, input: $input: ItemUpdateInput!",
                          "item { version listPrice leadTimeDays defaultSupplier { code } }",
                          id=item["id"], input={"listPrice": "12", "leadTimeDays": 3,
                                                "expectedVersion": item["version"]})["item"]
        assert (edited["version"], Decimal(edited["listPrice"]), edited["leadTimeDays"]) == (item["version"] + 1, 12, 3)
        assert edited["defaultSupplier"] == {"code": "BELLCO"}

        customer = mutation(sales, "createCustomer", "input: $input: CustomerInput!", "customer { id }",
                            input={"code": "ACME", "name": "Acme Cycles"})["customer"]
        mutation(finance, "updateCustomer", "id: $id: ID!, input: $input: CustomerUpdateInput!",
                 "customer { creditLimit }", id=customer["id"], input={"creditLimit": "5000"})
        mutation(sales, "addContact", "customerId: $customerId: ID, input: $input: ContactInput!", "contact { id }",
                 customerId=customer["id"], input={"name": "Ann Buyer", "email": "ann@acme.test"})

        # a draft order, corrected before confirmation: nothing on hand, so all of it waits
        order = mutation(sales, "createSalesOrder", "input: $input: SalesOrderInput!", "order { id }",
                         input={"customerId": customer["id"], "lines": [{"itemId": item["id"], "quantity": "18"}]})
        order_id = order["order"]["id"]
        corrected = mutation(sales, "updateSalesOrder", "id: $id: ID!, input: $input: SalesOrderUpdateInput!",
                             "order { lines { quantity unitPrice } }", id=order_id,
                             input={"lines": [{"itemId": item["id"], "quantity": "16"}]})["order"]
        assert [(Decimal(line["quantity"]), Decimal(line["unitPrice"])) for line in corrected["lines"]] == [(16, 12)]
        confirmed = mutation(sales, "confirmSalesOrder", "id: $id: ID!",
                             "order { status lines { reservedQuantity backorderedQuantity } }", id=order_id)["order"]
        assert confirmed["status"] == "CONFIRMED"
        assert [(Decimal(line["reservedQuantity"]), Decimal(line["backorderedQuantity"]))
                for line in confirmed["lines"]] == [(0, 16)]

        # a purchase order, corrected (20 → 18), received: the worker fills the backorder
        po = mutation(production, "createPurchaseOrder", "input: $input: PurchaseOrderInput!",
                      "purchaseOrder { id lines { id } }", input={"supplierId": supplier["id"], "lines": [
                          {"itemId": item["id"], "quantity": "20", "unitCost": "4",
                           "dueDate": str(date.today() + timedelta(days=3))}]})["purchaseOrder"]
        mutation(production, "updatePurchaseOrder", "id: $id: ID!, input: $input: PurchaseOrderUpdateInput!",
                 "purchaseOrder { lines { quantity } }", id=po["id"],
                 input={"lines": [{"id": po["lines"][0]["id"], "itemId": item["id"], "quantity": "18",
                                   "unitCost": "4"}]})
        received = mutation(production, "receivePurchaseOrder", "id: $id: ID!", "purchaseOrder { status }", id=po["id"])
        assert received["purchaseOrder"]["status"] == "RECEIVED"
        order_lines = ("query($id: ID!) { node(id: $id) { ... on SalesOrder { status "
                       "lines { id reservedQuantity backorderedQuantity } } } }")
        filled = until(lambda: (node := sales.query(order_lines, {"id": order_id})["node"])
                       and Decimal(node["lines"][0]["reservedQuantity"]) == 16 and node)
        assert Decimal(filled["lines"][0]["backorderedQuantity"]) == 0

        # the two bells left over go to the overflow warehouse
        moved = mutation(production, "transferStock", "input: $input: StockTransferInput!",
                         "from { onHand available } to { onHand available }",
                         input={"itemId": item["id"], "fromWarehouseId": main["id"], "toWarehouseId": spare["id"],
                                "quantity": "2", "reason": "overflow"})
        assert [Decimal(moved[end][key]) for end in ("from", "to") for key in ("onHand", "available")] == [16, 0, 2, 2]

        # ship, invoice, credit one damaged bell, pay the rest: the order closes
        mutation(admin, "shipSalesOrder", "input: $input: ShipmentInput!", "shipment { id }",
                 input={"orderId": order_id})
        invoice = mutation(admin, "invoiceSalesOrder", "id: $id: ID!", "invoice { id total }", id=order_id)["invoice"]
        credited = mutation(finance, "issueCreditNote", "input: $input: CreditNoteInput!",
                            "creditNote { number amount } invoice { balance status }",
                            input={"invoiceId": invoice["id"], "amount": "12.00", "reason": "one bell dented"})
        assert invoice["total"] == "192.00"
        assert credited["creditNote"]["amount"] == "12.00"
        assert credited["invoice"] == {"balance": "180.00", "status": "OPEN"}
        mutation(finance, "recordPayment", "input: $input: PaymentInput!", "payment { id }",
                 input={"customerId": customer["id"], "amount": credited["invoice"]["balance"],
                        "invoiceId": invoice["id"]})
        closed = sales.query("query($id: ID!) { node(id: $id) { ... on SalesOrder { status } } }", {"id": order_id})
        assert closed["node"]["status"] == "CLOSED"

        # every document is in its list
        lists = admin.query(
            "{ suppliers(first: 5) { totalCount } purchaseOrders(first: 5) { totalCount }"
            "  shipments(first: 5) { totalCount } payments(first: 5) { totalCount } warehouses { code } }"
        )
        counts = [lists[key]["totalCount"] for key in ("suppliers", "purchaseOrders", "shipments", "payments")]
        assert counts == [1, 1, 1, 1]
        assert sorted(w["code"] for w in lists["warehouses"]) == ["MAIN", "SPARE"]
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
