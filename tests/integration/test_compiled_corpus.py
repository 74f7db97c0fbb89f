"""Every query of a corpus answers the same bytes on the compiled and the resolver path (issue 14).

The corpus, for an admin, a sales viewer (cost fields null) and a partner (fenced to its own
customers), on the database of ``tests.compiled_seed``:

- every query operation of the ```graphql blocks in the README and docs/;
- every root field of the catalog with every catalog field below it, relations three deep;
- the hand-written queries of ``test_compiled_reads`` (fragments, aliases, directives);
- queries hypothesis-graphql writes from ``schema.graphql`` cut down to what
  ``api.compiled.catalog.compilable_fields()`` lists (``tests.compiled_catalog``), with
  arguments from the data (page sizes, cursors, codes, global ids) and now and then one out of
  range or naming nothing.

Each query goes over HTTP to the app on the resolver path (the reference) and to the same app
with compiled reads on (twice when served compiled: the second time skips strawberry): the
status and the body must be the same bytes. And a query that asks only for catalog fields,
every argument in range, and that the resolvers answer without errors must be served
compiled: the catalog promises nothing the planner does not keep.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import hypothesis
import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSyntaxError,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    ast_from_value,
    get_named_type,
    is_leaf_type,
    parse,
    parse_type,
    print_ast,
    visit,
)
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from api.compiled.catalog import ENTITIES
from api.compiled.extension import READ_PATH_HEADER
from tests.compiled_catalog import COMPILABLE, FULL, ROOT, Site, Values, argument_values, in_catalog, pruned_schema
from tests.compiled_seed import PARTNER, seed
from tests.integration import test_compiled_reads as reads

ROLES = ("admin", "sales", "partner")
GENERATED = 200  # generated queries a role: with three roles, 600 a run
DEPTH = 3  # relations below a root field in the queries that select everything
SHAPES = 12  # queries a failure shows that were not served compiled: the shortest of each shape

settings = reads.settings  # the fixture: the reference app answers on the resolver path


# ------------------------------------------------------------------ root fields and their rows


def _calls(values: dict[Site, Values]) -> list[tuple[str, GraphQLNamedType]]:
    """Each root field of the catalog as the written queries call it, and the type it returns: a
    connection as it is, a lookup by each of its arguments, ``node`` by an id of each type and
    ``nodes`` by all of them."""
    out: list[tuple[str, GraphQLNamedType]] = []
    for name, arguments in COMPILABLE["Query"].items():
        definition = FULL.query_type.fields[name]  # type: ignore[union-attr]
        calls = [] if any(isinstance(a.type, GraphQLNonNull) for a in definition.args.values()) else [name]
        for argument in sorted(arguments - {"first", "after"}):
            if ("Query", name, argument) not in values:
                continue  # an enum or Boolean filter: the generated queries give those
            type_ = definition.args[argument].type
            for value in values[("Query", name, argument)].examples(type_):
                calls.append(f"{name}({argument}: {print_ast(ast_from_value(value, type_))})")  # type: ignore[arg-type]
        out += [(call, get_named_type(definition.type)) for call in calls]
    return out


def _rows(returned: GraphQLNamedType) -> tuple[list[GraphQLObjectType], Callable[[list[str]], str]]:
    """The row types below a root field's type, and how their selections make the field's: an
    interface's compiled types in inline fragments, a connection's nodes in its edges."""
    if isinstance(returned, GraphQLInterfaceType):
        types = [t for t in FULL.get_implementations(returned).objects if t.name in COMPILABLE]
        return types, lambda rows: " ".join(
            ["{ __typename", *(f"... on {t.name} {row}" for t, row in zip(types, rows, strict=True)), "}"])
    assert isinstance(returned, GraphQLObjectType)
    if "edges" in COMPILABLE[returned.name]:
        edge = get_named_type(returned.fields["edges"].type)
        assert isinstance(edge, GraphQLObjectType)
        node = get_named_type(edge.fields["node"].type)
        assert isinstance(node, GraphQLObjectType)
        return [node], lambda rows: (f"{{ totalCount edges {{ cursor node {rows[0]} }}"
                                     " pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }")
    return [returned], lambda rows: rows[0]


def _tree(target: GraphQLObjectType, depth: int) -> str:
    """Every catalog field of ``target``, relations ``depth`` deep (a connection's wrappers are no level)."""
    selected = []
    for name, arguments in COMPILABLE[target.name].items():
        child = get_named_type(target.fields[name].type)
        level = depth - (child.name in ENTITIES)
        if is_leaf_type(child):
            selected.append(name)
        elif isinstance(child, GraphQLObjectType) and child.name in COMPILABLE and level >= 0:
            selected.append(f"{name}{'(first: 2)' if 'first' in arguments else ''} {_tree(child, level)}")
    return "{ " + " ".join(selected) + " }"


def trees(values: dict[Site, Values]) -> list[tuple[str, dict[str, Any]]]:
    """Each root field of the catalog selecting every catalog field, relations ``DEPTH`` deep."""
    out: list[tuple[str, dict[str, Any]]] = []
    for call, returned in _calls(values):
        types, wrap = _rows(returned)
        out.append((f"{{ {call} {wrap([_tree(t, DEPTH) for t in types])} }}", {}))
    return out


def _placed(call: str, wrap: Callable[[list[str]], str], rows: tuple[str, ...]) -> str:
    return f"{{ {call} {wrap(list(rows))} }}"


def generated(sdl: str, scalars: dict[str, st.SearchStrategy[ValueNode]], values: dict[Site, Values],
              count: int) -> list[str]:
    """``count`` queries hypothesis-graphql writes, the same every run: from the Query type, one
    root field each (a failure names it); and from a row type up (the schema rooted there), placed
    below a root field as ``trees`` calls it, which makes deeper queries."""
    options: dict[str, Any] = {"custom_scalars": scalars, "allow_x00": False}
    below: dict[str, st.SearchStrategy[str]] = {}
    strategies = [from_schema(sdl, fields=[root], **options) for root in COMPILABLE["Query"]]
    for call, returned in _calls(values):
        types, wrap = _rows(returned)
        for t in types:
            below.setdefault(t.name, from_schema(f"{sdl}\nschema {{ query: {t.name} }}\n", **options))
        rows = st.tuples(*(below[t.name] for t in types))
        strategies.append(rows.map(partial(_placed, call, wrap)))
    found: list[str] = []

    @hypothesis.settings(max_examples=count, derandomize=True, database=None, deadline=None,
                         phases=[hypothesis.Phase.generate], suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(st.one_of(strategies))
    def collect(query: str) -> None:
        found.append(query)

    collect()
    return list(dict.fromkeys(found))


# ------------------------------------------------------------------ written queries


def documented(values: dict[Site, Values]) -> list[tuple[str, dict[str, Any]]]:
    """Every query operation of the ```graphql blocks in README.md and docs/*.md, alone with the
    block's fragments (a block that is only a field is a query's selection), its variables once
    unset and once from the data."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```graphql\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
            try:
                document = parse(block)
            except GraphQLSyntaxError:
                document = parse("{" + block + "}")
            fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
            for operation in document.definitions:
                if isinstance(operation, OperationDefinitionNode) and operation.operation == OperationType.QUERY:
                    operation, variables = _with_variables(operation, values)
                    query = print_ast(DocumentNode(definitions=(operation, *fragments)))
                    out += [(query, {}), (query, variables)] if variables else [(query, {})]
    return out


def _with_variables(
    operation: OperationDefinitionNode, values: dict[Site, Values]
) -> tuple[OperationDefinitionNode, dict[str, Any]]:
    """The operation with a definition of each variable it gives an argument, and a value for each."""
    type_info = TypeInfo(FULL)
    fields: list[str] = []
    used: dict[str, tuple[GraphQLInputType, Site]] = {}

    class Uses(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            fields.append(node.name.value)

        def leave_field(self, node: FieldNode, *_: Any) -> None:
            fields.pop()

        def enter_argument(self, node: Any, *_: Any) -> None:
            parent, argument = type_info.get_parent_type(), type_info.get_argument()
            if isinstance(node.value, VariableNode) and parent is not None and argument is not None:
                used[node.value.name.value] = (argument.type, (parent.name, fields[-1], node.name.value))

    visit(operation, TypeInfoVisitor(type_info, Uses()))
    declared = {d.variable.name.value for d in operation.variable_definitions or ()}
    definitions = [*(operation.variable_definitions or ()), *(
        VariableDefinitionNode(variable=VariableNode(name=NameNode(value=name)), type=parse_type(str(type_)))
        for name, (type_, _) in used.items() if name not in declared
    )]
    variables = {name: values[site].examples(type_)[0] for name, (type_, site) in used.items() if site in values}
    return OperationDefinitionNode(
        operation=operation.operation, name=operation.name, variable_definitions=tuple(definitions),
        directives=operation.directives, selection_set=operation.selection_set,
    ), variables


# ------------------------------------------------------------------ the comparison


@dataclass
class Run:
    """One viewer's pass over the corpus: how each query was served, and what went wrong."""

    role: str
    reference: httpx.AsyncClient
    compiled: httpx.AsyncClient
    headers: dict[str, str]
    served: Counter[str] = field(default_factory=Counter)
    errors: int = 0  # answered with errors (a limit, an argument out of range): by the resolvers then
    differences: list[str] = field(default_factory=list)
    # by the object fields they ask for: queries of one shape mostly miss the planner for one reason
    not_compiled: dict[frozenset[str], list[str]] = field(default_factory=dict)

    async def check(self, query: str, variables: dict[str, Any]) -> None:
        body = {"query": query, "variables": variables}
        expected = await self.reference.post("/graphql", json=body, headers=self.headers)
        answers = [await self.compiled.post("/graphql", json=body, headers=self.headers)]
        path = answers[0].headers.get(READ_PATH_HEADER, "none")
        if path == "compiled":  # asked again, it is answered before strawberry parses it (answer_known)
            answers.append(await self.compiled.post("/graphql", json=body, headers=self.headers))
        self.served[path] += 1
        failed = b'"errors":' in expected.content  # a key: inside a string its quotes are escaped
        self.errors += failed
        case = f"{self.role}: {' '.join(query.split())}  variables: {json.dumps(variables, ensure_ascii=False)}"
        for time, answer in enumerate(answers, 1):
            if (answer.status_code, answer.content) != (expected.status_code, expected.content):
                reference, compiled = _around(expected.text, answer.text)
                self.differences.append(f"{case}\n    resolvers {expected.status_code}: {reference}"
                                        f"\n    compiled ({time}.) {answer.status_code}: {compiled}")
                return
        document = parse(query)
        if path != "compiled" and expected.status_code == 200 and not failed and in_catalog(document, variables):
            self.not_compiled.setdefault(_shape(document), []).append(case)

    def report(self) -> str:
        lines = [f"{self.role}: {sum(self.served.values())} queries, {self.served['compiled']} served compiled,"
                 f" {self.errors} answered with errors"]
        if self.differences:
            lines += [f"{len(self.differences)} answered differently by the two paths; the shortest:",
                      *sorted(self.differences, key=len)[:3]]
        if self.not_compiled:
            cases = sum(len(group) for group in self.not_compiled.values())
            shortest = sorted((min(group, key=len) for group in self.not_compiled.values()), key=len)
            lines.append(f"{cases} ask only for catalog fields, arguments in range, yet were served by the"
                         f" resolvers; the shortest of each shape ({len(shortest)}), at most {SHAPES}:")
            lines += shortest[:SHAPES]
        return "\n".join(lines)


def _shape(document: DocumentNode) -> frozenset[str]:
    """The object fields a query asks for (``Type.field``)."""
    type_info, found = TypeInfo(FULL), set()

    class Objects(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent, type_ = type_info.get_parent_type(), type_info.get_type()
            if parent is not None and type_ is not None and not is_leaf_type(get_named_type(type_)):
                found.add(f"{parent.name}.{node.name.value}")

    visit(document, TypeInfoVisitor(type_info, Objects()))
    return frozenset(found)


def _around(reference: str, compiled: str) -> tuple[str, str]:
    """Both bodies from a little before their first difference."""
    at = next((i for i, (a, b) in enumerate(zip(reference, compiled, strict=False)) if a != b),
              min(len(reference), len(compiled)))
    start = max(0, at - 300)
    cut = "…" if start else ""
    return cut + reference[start:at + 300], cut + compiled[start:at + 300]


@pytest.mark.parametrize("role", ROLES)
async def test_every_query_of_the_corpus_answers_the_same_bytes_on_both_paths(
    app: Any, http: httpx.AsyncClient, sessionmaker: Any, settings: Any, make_token: Any,
    monkeypatch: pytest.MonkeyPatch, role: str,
) -> None:
    await seed(sessionmaker)
    # the reference app started on an empty database: its cost limit must see what lists hold now
    await app.state.list_maxima.refresh(sessionmaker)
    values = await argument_values(sessionmaker)
    sdl, scalars = pruned_schema(values)
    corpus = [*documented(values), *trees(values), *reads.CORPUS,
              *((query, {}) for query in generated(sdl, scalars, values, GENERATED))]
    partner = PARTNER if role == "partner" else None
    token = await make_token(role, partner=partner)
    async with reads.compiled_app(settings, monkeypatch) as (compiled, _):
        run = Run(role, http, compiled, {"Authorization": f"Bearer {token}"})
        for query, variables in corpus:
            await run.check(query, variables)
    if not run.served["compiled"] or run.differences or run.not_compiled:
        pytest.fail(run.report(), pytrace=False)
    print(run.report())  # with -s: how many were served compiled
