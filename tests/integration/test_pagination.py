"""Keyset pagination across pages, totalCount, and page-size limits."""

from __future__ import annotations

from sqlalchemy import insert

from domain.inventory.models import Item

PAGE = """
query($first: Int, $after: String, $search: String, $kind: ItemKind) {
  items(first: $first, after: $after, search: $search, kind: $kind) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { sku } }
  }
}"""


async def seed(sessionmaker, n: int) -> None:
    async with sessionmaker.begin() as s:
        await s.execute(insert(Item), [
            {"sku": f"SKU-{i:03d}", "name": f"Part {i}", "kind": "FINISHED" if i % 5 == 0 else "RAW_MATERIAL",
             "procurement": "BUY"} for i in range(n)
        ])


async def test_walks_all_pages_without_gaps_or_repeats(gql, sessionmaker) -> None:
    await seed(sessionmaker, 47)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = (await gql(PAGE, {"first": 10, "after": after}))["data"]["items"]
        pages += 1
        assert data["totalCount"] == 47
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        skus = [e["node"]["sku"] for e in data["edges"]]
        seen += skus
        assert data["pageInfo"]["endCursor"] == data["edges"][-1]["cursor"]
        assert data["pageInfo"]["startCursor"] == data["edges"][0]["cursor"]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert pages == 5
    assert seen == [f"SKU-{i:03d}" for i in range(47)]


async def test_default_page_size_and_filters(gql, sessionmaker) -> None:
    await seed(sessionmaker, 30)
    data = (await gql(PAGE, {}))["data"]["items"]
    assert len(data["edges"]) == 20 and data["pageInfo"]["hasNextPage"] is True
    finished = (await gql(PAGE, {"kind": "FINISHED"}))["data"]["items"]
    assert finished["totalCount"] == 6
    assert [e["node"]["sku"] for e in finished["edges"]] == [f"SKU-{i:03d}" for i in range(0, 30, 5)]
    searched = (await gql(PAGE, {"search": "part 2"}))["data"]["items"]
    assert searched["totalCount"] == 11  # Part 2, Part 20-29


async def test_empty_page(gql) -> None:
    data = (await gql(PAGE, {"first": 5}))["data"]["items"]
    assert data == {"totalCount": 0, "edges": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}}


async def test_rows_inserted_behind_the_cursor_do_not_shift_the_next_page(gql, sessionmaker) -> None:
    await seed(sessionmaker, 10)
    first = (await gql(PAGE, {"first": 5}))["data"]["items"]
    async with sessionmaker.begin() as s:  # a concurrent insert lands after the last row
        await s.execute(insert(Item).values(sku="LATE", name="late", kind="FINISHED", procurement="BUY"))
    second = (await gql(PAGE, {"first": 5, "after": first["pageInfo"]["endCursor"]}))["data"]["items"]
    assert [e["node"]["sku"] for e in second["edges"]] == [f"SKU-{i:03d}" for i in range(5, 10)]
    assert second["pageInfo"]["hasNextPage"] is True


async def test_page_size_limits_and_bad_cursor(gql) -> None:
    for first in (101, -1):
        body = await gql(PAGE, {"first": first}, expect_errors=True)
        assert body["data"] is None
        assert "first" in body["errors"][0]["message"]
    assert "errors" not in await gql(PAGE, {"first": 100})
    literal = await gql("{ customers(first: 500) { totalCount } }", expect_errors=True)
    assert literal["data"] is None and "first" in literal["errors"][0]["message"]
    bad = await gql(PAGE, {"after": "not-a-cursor"}, expect_errors=True)
    assert "cursor" in bad["errors"][0]["message"]
