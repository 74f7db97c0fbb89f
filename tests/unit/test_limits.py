"""Query limits on a small stand-alone schema: every limit rejects before any resolver runs."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Iterator
from typing import Annotated, Any

import httpx
import pytest
import strawberry
from graphql import GraphQLError, get_introspection_query, parse
from graphql.language import Lexer, Source, TokenKind
from strawberry.asgi import GraphQL

from api.limits import (
    DEFAULT_MAX_LINES,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    InputBounds,
    check_page_size,
    limit_extensions,
    query_cost,
)

DEFAULT_LIMITS = {"max_depth": 12, "max_aliases": 30, "max_tokens": 5000, "max_cost": 50_000}

CALLS: list[str] = []
"""Names of the resolvers that ran: empty proves a request was rejected before execution."""


@strawberry.type
class BomLine:
    component: str
    quantity: int


@strawberry.type
class Bom:
    @strawberry.field
    def lines(self) -> list[BomLine]:
        CALLS.append("Bom.lines")
        return [BomLine(component="screw", quantity=4)]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Item:
    id: strawberry.ID
    name: str

    @strawberry.field
    def bom(self) -> Bom:
        return Bom()

    @strawberry.field
    def related(self, first: int | None = None, after: str | None = None) -> ItemConnection:
        CALLS.append("Item.related")
        return _item_page(first)


@strawberry.type
class ItemEdge:
    cursor: str
    node: Item


@strawberry.type
class ItemConnection:
    edges: list[ItemEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class Customer:
    id: strawberry.ID
    name: str

    @strawberry.field
    def items(self, first: int = 5, after: str | None = None) -> ItemConnection:
        CALLS.append("Customer.items")
        return _item_page(first)


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    total_count: int


SearchResult = Annotated[Item | Customer, strawberry.union("SearchResult")]


def _item_page(first: int | None) -> ItemConnection:
    check_page_size(first)
    # One row whatever the page size: the tests are about limits, not data.
    return ItemConnection(
        edges=[ItemEdge(cursor="c1", node=Item(id=strawberry.ID("1"), name="bolt"))],
        page_info=PageInfo(has_next_page=False, end_cursor="c1"),
        total_count=1,
    )


@strawberry.type
class Query:
    @strawberry.field
    def items(self, first: int | None = None, after: str | None = None) -> ItemConnection:
        CALLS.append("Query.items")
        return _item_page(first)

    @strawberry.field
    def customers(self, first: int | None = None, after: str | None = None) -> CustomerConnection:
        CALLS.append("Query.customers")
        check_page_size(first)
        customer = Customer(id=strawberry.ID("1"), name="ACME")
        return CustomerConnection(edges=[CustomerEdge(cursor="c1", node=customer)], total_count=1)

    @strawberry.field
    def search(self, first: int | None = None) -> list[SearchResult]:
        CALLS.append("Query.search")
        check_page_size(first)
        return [Item(id=strawberry.ID("1"), name="bolt"), Customer(id=strawberry.ID("2"), name="ACME")]


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def item_changes(self, first: int | None = None) -> AsyncGenerator[ItemConnection, None]:
        CALLS.append("Subscription.itemChanges")
        yield _item_page(first)


def make_schema(**overrides: int) -> strawberry.Schema:
    limits = DEFAULT_LIMITS | overrides
    return strawberry.Schema(
        Query, subscription=Subscription, extensions=limit_extensions(**limits)
    )


schema = make_schema()
graphql_schema = schema._schema


@pytest.fixture(autouse=True)
def calls() -> Iterator[list[str]]:
    CALLS.clear()
    yield CALLS
    CALLS.clear()


async def run(query: str, variables: dict[str, Any] | None = None, on: strawberry.Schema = schema) -> Any:
    return await on.execute(query, variable_values=variables)


def assert_rejected(result: Any, calls: list[str], code: str | None = None) -> GraphQLError:
    assert result.data is None
    assert result.errors and len(result.errors) == 1, result.errors
    assert calls == []
    error: GraphQLError = result.errors[0]
    if code is not None:
        assert error.extensions and error.extensions["code"] == code, error.extensions
    return error


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    return query_cost(graphql_schema, parse(query), variables, None)


def token_count(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def nested(levels: int, leaf: str = "id") -> str:
    """``items`` then ``levels - 1`` ``related`` connections: depth 3 per connection."""
    body = leaf
    for _ in range(levels - 1):
        body = f"related(first: 1) {{ edges {{ node {{ {body} }} }} }}"
    return f"{{ items(first: 1) {{ edges {{ node {{ {body} }} }} }} }}"


# --- depth -----------------------------------------------------------------


async def test_depth_at_limit_passes(calls: list[str]) -> None:
    result = await run(nested(4))  # depth 3 * 4 = 12
    assert result.errors is None
    assert "Item.related" in calls


async def test_depth_over_limit_is_rejected(calls: list[str]) -> None:
    result = await run(nested(4, leaf="related(first: 1) { totalCount }"))  # depth 13
    error = assert_rejected(result, calls)
    assert error.message == "'anonymous' exceeds maximum operation depth of 12"


async def test_introspection_passes_default_limits(calls: list[str]) -> None:
    # What GraphiQL sends (every option on): deeper than 12 through ofType, which
    # the depth limiter exempts; graphql-core's MaxIntrospectionDepthRule bounds it.
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    result = await run(query)
    assert result.errors is None
    assert {t["name"] for t in result.data["__schema"]["types"]} >= {"Item", "ItemConnection"}
    assert cost(query) == 0


async def test_introspection_cannot_nest_without_bound(calls: list[str]) -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    assert_rejected(await run(query), calls)


# --- aliases ---------------------------------------------------------------


def aliases(prefix: str, count: int) -> str:
    # A leading plain field keeps the selection set non-empty when count is 0.
    return " ".join(["totalCount", *(f"{prefix}{n}: totalCount" for n in range(count))])


def aliased_query(direct: int, in_fragment: int, inline: int) -> str:
    return f"""
        query {{
          items(first: 1) {{
            {aliases("d", direct)}
            ...Counts
            ... on ItemConnection {{ {aliases("i", inline)} }}
          }}
        }}
        fragment Counts on ItemConnection {{ {aliases("f", in_fragment)} }}
    """


async def test_aliases_at_limit_through_fragments_pass(calls: list[str]) -> None:
    result = await run(aliased_query(direct=10, in_fragment=10, inline=10))
    assert result.errors is None
    assert result.data["items"]["f9"] == 1
    assert calls == ["Query.items"]


@pytest.mark.parametrize("extra", ["direct", "in_fragment", "inline"])
async def test_one_alias_over_limit_anywhere_is_rejected(extra: str, calls: list[str]) -> None:
    counts = {"direct": 10, "in_fragment": 10, "inline": 10}
    counts[extra] += 1
    error = assert_rejected(await run(aliased_query(**counts)), calls)
    assert error.message == "31 aliases found. Allowed: 30"


async def test_aliases_count_once_per_fragment_spread(calls: list[str]) -> None:
    query = """
        { items(first: 1) { ...Counts } customers(first: 1) { totalCount } more: items(first: 1) { ...Counts } }
        fragment Counts on ItemConnection { %s }
    """ % aliases("f", 15)
    error = assert_rejected(await run(query), calls)
    assert error.message == "31 aliases found. Allowed: 30"


# --- tokens ----------------------------------------------------------------

TOKEN_QUERY = "{ items(first: 2) { totalCount edges { node { id name } } } }"


async def test_tokens_at_limit_pass(calls: list[str]) -> None:
    tight = make_schema(max_tokens=token_count(TOKEN_QUERY))
    result = await run(TOKEN_QUERY, on=tight)
    assert result.errors is None
    assert calls == ["Query.items"]


async def test_tokens_over_limit_are_rejected(calls: list[str]) -> None:
    tight = make_schema(max_tokens=token_count(TOKEN_QUERY))
    result = await run(TOKEN_QUERY.replace("totalCount", "totalCount pageInfo { hasNextPage }"), on=tight)
    error = assert_rejected(result, calls)
    assert "Document contains more than" in error.message


# --- page size -------------------------------------------------------------


def test_check_page_size() -> None:
    assert check_page_size(None) == DEFAULT_PAGE_SIZE == 20
    assert check_page_size(0) == 0
    assert check_page_size(MAX_PAGE_SIZE) == MAX_PAGE_SIZE == 100
    for bad in (-1, 101):
        with pytest.raises(GraphQLError, match=f"between 0 and 100, got {bad}"):
            check_page_size(bad)


@pytest.mark.parametrize("first", [0, 100])
async def test_page_size_in_range_passes(first: int, calls: list[str]) -> None:
    literal = await run(f"{{ items(first: {first}) {{ totalCount }} }}")
    variable = await run("query($n: Int) { items(first: $n) { totalCount } }", {"n": first})
    assert literal.errors is None and variable.errors is None
    assert calls == ["Query.items", "Query.items"]


@pytest.mark.parametrize("first", [-1, 101])
async def test_page_size_literal_out_of_range_is_rejected(first: int, calls: list[str]) -> None:
    error = assert_rejected(
        await run(f"{{ items(first: {first}) {{ totalCount }} }}"), calls, "PAGE_SIZE_OUT_OF_RANGE"
    )
    assert error.message == f'Argument "first" of field "Query.items" must be between 0 and 100, got {first}.'
    assert error.locations and error.locations[0].column == 3


@pytest.mark.parametrize("first", [-1, 101])
async def test_page_size_variable_out_of_range_is_rejected(first: int, calls: list[str]) -> None:
    query = """
        query($n: Int) { items(first: 1) { edges { node { ...Rel } } } }
        fragment Rel on Item { related(first: $n) { totalCount } }
    """
    error = assert_rejected(await run(query, {"n": first}), calls, "PAGE_SIZE_OUT_OF_RANGE")
    assert '"Item.related"' in error.message
    assert error.extensions == {
        "code": "PAGE_SIZE_OUT_OF_RANGE",
        "field": "Item.related",
        "first": first,
        "maxPageSize": 100,
    }


async def test_page_size_is_checked_on_non_connection_fields(calls: list[str]) -> None:
    error = assert_rejected(await run("{ search(first: 101) { __typename } }"), calls)
    assert '"Query.search"' in error.message


async def test_page_size_in_variable_default_is_checked(calls: list[str]) -> None:
    query = "query($n: Int = 500) { items(first: $n) { totalCount } }"
    assert_rejected(await run(query), calls, "PAGE_SIZE_OUT_OF_RANGE")


async def test_page_size_is_checked_for_subscriptions(calls: list[str]) -> None:
    results = await schema.subscribe("subscription { itemChanges(first: 101) { totalCount } }")
    [result] = [result async for result in results]
    assert_rejected(result, calls, "PAGE_SIZE_OUT_OF_RANGE")


async def test_subscriptions_in_range_run(calls: list[str]) -> None:
    results = await schema.subscribe("subscription { itemChanges(first: 100) { totalCount } }")
    [result] = [result async for result in results]
    assert result.errors is None
    assert calls == ["Subscription.itemChanges"]


# --- cost ------------------------------------------------------------------

NESTED = "query($n: Int) { items(first: 100) { edges { node { id related(first: $n) { edges { node { id } } } } } } }"


def test_nested_connections_multiply() -> None:
    # related: 1 + 50 * (edges 1 + node 1 + id 1) = 151
    # items:   1 + 100 * (edges 1 + node 1 + id 1 + related 151) = 15401
    assert cost(NESTED, {"n": 50}) == 15401
    assert cost(NESTED, {"n": 0}) == 1 + 100 * (3 + 1)


def test_page_size_defaults() -> None:
    assert cost("{ items { totalCount } }") == 1 + DEFAULT_PAGE_SIZE * 1
    # Customer.items declares first = 5 in the schema:
    # customers 1 + 2 * (edges 1 + node 1 + items (1 + 5 * totalCount 1))
    assert cost("{ customers(first: 2) { edges { node { items { totalCount } } } } }") == 1 + 2 * (2 + 6)


def test_plain_lists_count_their_bound() -> None:
    # lines 1 + 500 (the line bound) * 2 leaves; bom 1 + 1001; node 1 + 1002; edges 1 + 1003;
    # items 1 + 10 * 1004
    query = "{ items(first: 10) { edges { node { bom { lines { component quantity } } } } } }"
    assert cost(query) == 1 + 10 * (1 + 1 + 1 + 1 + DEFAULT_MAX_LINES * 2)
    small = query_cost(graphql_schema, parse(query), None, None, InputBounds(max_lines=3))
    assert small == 1 + 10 * (4 + 3 * 2)


def test_typename_and_introspection_are_free() -> None:
    query = "{ __typename items(first: 10) { __typename totalCount } __schema { queryType { name } } }"
    assert cost(query) == 1 + 10 * 1


def test_fragments_variables_and_skip() -> None:
    query = """
        query($n: Int!, $skip: Boolean!) {
          items(first: $n) { ...Page edges @skip(if: $skip) { node { id } } }
        }
        fragment Page on ItemConnection { ... on ItemConnection { totalCount } pageInfo { hasNextPage } }
    """
    assert cost(query, {"n": 10, "skip": True}) == 1 + 10 * 3
    assert cost(query, {"n": 10, "skip": False}) == 1 + 10 * (3 + 3)


def test_union_fields_and_lists_with_first() -> None:
    # search takes first and returns a list: first bounds it, like a connection's page.
    query = "{ search(first: 7) { ... on Item { id } ... on Customer { id name } } }"
    assert cost(query) == 1 + 7 * 3


def test_query_cost_selects_the_named_operation() -> None:
    document = parse("query A { items(first: 3) { totalCount } } query B { items { totalCount } }")
    assert query_cost(graphql_schema, document, None, "A") == 4
    assert query_cost(graphql_schema, document, None, "B") == 21
    with pytest.raises(GraphQLError):
        query_cost(graphql_schema, document, None, None)


def test_query_cost_ends_on_fragment_cycles() -> None:
    # Validation rejects cycles; the walk must still terminate on unvalidated input.
    document = parse(
        "{ items(first: 2) { ...A } } "
        "fragment A on ItemConnection { totalCount ...B } "
        "fragment B on ItemConnection { pageInfo { hasNextPage } ...A }"
    )
    assert query_cost(graphql_schema, document, None, None) == 1 + 2 * (1 + 2)


async def test_cost_at_limit_passes(calls: list[str]) -> None:
    at_limit = make_schema(max_cost=15401)
    result = await run(NESTED, {"n": 50}, on=at_limit)
    assert result.errors is None
    assert calls == ["Query.items", "Item.related"]


async def test_cost_over_limit_is_rejected(calls: list[str]) -> None:
    at_limit = make_schema(max_cost=15401)
    error = assert_rejected(await run(NESTED, {"n": 51}, on=at_limit), calls)
    assert cost(NESTED, {"n": 51}) == 15701
    assert "15701" in error.message and "15401" in error.message
    assert error.extensions == {"code": "QUERY_TOO_COSTLY", "cost": 15701, "maxCost": 15401}


async def test_three_nested_full_pages_exceed_the_default_cost(calls: list[str]) -> None:
    query = nested(3, leaf="id").replace("first: 1", "first: 100")
    error = assert_rejected(await run(query), calls, "QUERY_TOO_COSTLY")
    assert error.extensions and error.extensions["cost"] == 1 + 100 * (3 + 100 * (3 + 100 * 3))


# --- fragment fan-out --------------------------------------------------------


def fan_out(levels: int, spreads: int) -> str:
    fragments = [
        f"fragment F{n} on Query {{ {' '.join([f'...F{n + 1}'] * spreads)} }}" for n in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Query {{ items(first: 1) {{ totalCount }} }}")
    return "{ ...F0 } " + " ".join(fragments)


async def test_fragment_fan_out_is_rejected_quickly(calls: list[str]) -> None:
    # 8**12 expanded selections from ~600 tokens: the depth and alias limiters
    # would walk every one of them.
    started = time.perf_counter()
    error = assert_rejected(await run(fan_out(levels=12, spreads=8)), calls, "QUERY_TOO_COMPLEX")
    assert time.perf_counter() - started < 0.5
    assert error.extensions and error.extensions["selections"] == 2 * 8**12


async def test_reused_fragments_within_bounds_pass(calls: list[str]) -> None:
    result = await run(fan_out(levels=3, spreads=4))
    assert result.errors is None
    assert calls == ["Query.items"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # graphql-core 3.3 parses empty selection sets; strawberry's depth limiter
        # crashes on them ("max() arg is an empty sequence") and on unknown fragments.
        ("{ items(first: 1) { } }", "Selection sets must not be empty."),
        ("{ items(first: 1) { ... on ItemConnection { } } }", "Selection sets must not be empty."),
        ("{ ...Empty } fragment Empty on Query { }", "Selection sets must not be empty."),
        ("{ items(first: 1) { ...Missing } }", "Unknown fragment 'Missing'."),
    ],
)
async def test_documents_that_crash_the_depth_limiter_get_a_clear_error(
    query: str, message: str, calls: list[str]
) -> None:
    error = assert_rejected(await run(query), calls)
    assert error.message == message
    assert error.original_error is None


async def test_fragment_cycles_are_reported_not_looped(calls: list[str]) -> None:
    query = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    result = await run(query)
    assert result.errors and "Cannot spread fragment" in result.errors[0].message
    assert calls == []


# --- over HTTP ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (nested(5), "exceeds maximum operation depth"),
        (aliased_query(direct=31, in_fragment=0, inline=0), "aliases found"),
        ("{ items(first: 1) { %s } }" % " ".join(["totalCount"] * 5000), "more than 5000 tokens"),
        ("{ items(first: 101) { totalCount } }", 'field "Query.items"'),
        (nested(3, leaf="id").replace("first: 1", "first: 100"), "exceeds the maximum of 50000"),
        (fan_out(levels=12, spreads=8), "fragments expand to"),
    ],
    ids=["depth", "aliases", "tokens", "page-size", "cost", "fan-out"],
)
async def test_rejections_are_plain_graphql_errors_over_http(
    query: str, message: str, calls: list[str]
) -> None:
    transport = httpx.ASGITransport(app=GraphQL(schema))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert message in error["message"]
    assert set(error) <= {"message", "locations", "path", "extensions"}
    assert "Traceback" not in response.text
    assert calls == []
