"""Query.node / nodes resolve every global id type, in order, and hide what scopes forbid."""

from __future__ import annotations

from api.relay import to_global_id
from tests.integration.helpers import create_item, create_warehouse

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    id __typename
    ... on Customer { code contacts { id } }
    ... on Contact { name }
    ... on Item { sku }
    ... on Warehouse { code }
  }
}"""


async def test_nodes_resolve_each_type_in_order(gql, sessionmaker) -> None:
    warehouse = await create_warehouse(sessionmaker, "MAIN", default=True)
    item = await create_item(gql, "N-1")
    created = await gql("""mutation { createCustomer(input: {code: "C", name: "C",
        contacts: [{name: "Cora"}]}) { customer { id contacts { id } } } }""")
    customer = created["data"]["createCustomer"]["customer"]
    contact = customer["contacts"][0]["id"]
    ids = [item, "garbage", warehouse, to_global_id("Item", 999_999), customer["id"], contact,
           to_global_id("Nothing", 1)]
    nodes = (await gql(NODES, {"ids": ids}))["data"]["nodes"]
    assert nodes == [
        {"id": item, "__typename": "Item", "sku": "N-1"},
        None,
        {"id": warehouse, "__typename": "Warehouse", "code": "MAIN"},
        None,
        {"id": customer["id"], "__typename": "Customer", "code": "C", "contacts": [{"id": contact}]},
        {"id": contact, "__typename": "Contact", "name": "Cora"},
        None,
    ]
    single = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": contact})
    assert single["data"]["node"] == {"id": contact}


async def test_node_hides_what_the_viewer_may_not_read(app, sessionmaker) -> None:
    from api.context import Context
    from domain.identity.scopes import Scope
    from domain.identity.services import Principal
    from domain.inventory.services import create_warehouse as create

    async with sessionmaker.begin() as session:
        warehouse = await create(session, "W", "W")
    schema = app.routes[0].app.schema
    crm_only = Principal(name="n", role="partner", scopes=frozenset({Scope.CRM_READ}))
    result = await schema.execute(
        "query($id: ID!) { node(id: $id) { id } }",
        variable_values={"id": to_global_id("Warehouse", warehouse.id)},
        context_value=Context(sessionmaker=sessionmaker, settings=None, principal=crm_only),
    )
    assert result.errors is None and result.data == {"node": None}
