"""Queries report a domain error one way: a GraphQL error with ``extensions: {code, field}``."""

from __future__ import annotations

from typing import Any

from api.relay import to_global_id
from tests.integration.helpers import create_item


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    (error,) = body["errors"]
    return {"message": error["message"], "extensions": error["extensions"]}


async def test_a_domain_error_in_a_query_carries_code_and_field(gql) -> None:
    item = await create_item(gql, "ATP-1")
    atp = await gql('query($id: ID!) { node(id: $id) { ... on Item { availableToPromise(quantity: "0") { date } } } }',
                    {"id": item}, expect_errors=True)
    assert only_error(atp) == {"message": "quantity: must be greater than 0",
                               "extensions": {"code": "INVALID", "field": ["quantity"]}}
    cursor = await gql('{ items(after: "garbage") { totalCount } }', expect_errors=True)
    assert only_error(cursor) == {"message": "after: is not a valid cursor",
                                  "extensions": {"code": "INVALID", "field": ["after"]}}
    planned = await gql("query($id: ID) { plannedOrders(itemId: $id) { totalCount } }",
                        {"id": to_global_id("Customer", 1)}, expect_errors=True)
    assert only_error(planned) == {"message": "itemId: is not an Item id",
                                   "extensions": {"code": "INVALID", "field": ["itemId"]}}
    kitting = await gql("{ kittingAnalysis { complete } }", expect_errors=True)
    assert only_error(kitting) == {"message": "give exactly one of salesOrderId and workOrderId",
                                   "extensions": {"code": "INVALID", "field": []}}
    unknown = await gql("query($id: ID) { kittingAnalysis(workOrderId: $id) { complete } }",
                        {"id": to_global_id("WorkOrder", 999)}, expect_errors=True)
    assert only_error(unknown)["extensions"] == {"code": "NOT_FOUND", "field": ["workOrderId"]}
    assert unknown["data"] is None


async def test_a_subscription_over_http_says_to_use_the_websocket(gql, http, admin_token) -> None:
    for query, name in (
        ('subscription { jobProgress(jobId: "1") { status } }', None),
        ('query Q { viewer { name } } subscription S { jobProgress(jobId: "1") { status } }', "S"),
    ):
        response = await http.post(
            "/graphql", json={"query": query, "operationName": name},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"] is None
        assert only_error(body) == {
            "message": "subscriptions need a websocket: graphql-transport-ws on /graphql (not HTTP)",
            "extensions": {"code": "INVALID", "field": []},
        }
    response = await http.post(  # the query beside it still runs
        "/graphql", json={"query": query, "operationName": "Q"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.json()["data"]["viewer"]["name"]
