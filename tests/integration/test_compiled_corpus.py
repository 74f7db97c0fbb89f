"""Every query of a corpus answers the same bytes on the compiled and the resolver path (issue 14).

The corpus, for an admin, a sales viewer (cost fields null) and a partner (fenced to its own
customers), on the database of ``tests.compiled_seed``:

- every query operation of the ```graphql blocks in the README and docs/;
- every root field of the catalog with every catalog field below it, relations three deep;
- the hand-written queries of ``test_compiled_reads`` (fragments, aliases, directives);
- queries hypothesis-graphql generates from ``schema.graphql`` cut down to what
  ``api.compiled.catalog.compilable_fields()`` lists, with arguments taken from the data
  (page sizes, cursors, codes, global ids) and now and then one out of range or naming nothing.

Each query goes over HTTP to the app on the resolver path (the reference) and to the same app
with compiled reads on: the status and the body must be the same bytes. And a query that asks
only for catalog fields, every argument in range, and that the resolvers answer without errors
must be served compiled: the catalog promises nothing the planner does not keep.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
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
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSyntaxError,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    ast_from_value,
    build_schema,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
    parse,
    parse_type,
    print_ast,
    print_type,
    specified_scalar_types,
    visit,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes
from sqlalchemy import text

from api.compiled.catalog import ENTITIES, NODE_SCOPES, compilable_fields
from api.compiled.extension import READ_PATH_HEADER
from api.limits import DEFAULT_MAX_SEARCH_LENGTH, MAX_PAGE_SIZE
from api.relay import encode_cursor, from_global_id, to_global_id
from domain.identity.fence import Fence
from domain.shared.db import Base
from tests.compiled_seed import PARTNER, seed
from tests.integration import test_compiled_reads as reads

ROLES = ("admin", "sales", "partner")
GENERATED = 120  # queries hypothesis-graphql writes; each runs for every role
DEPTH = 3  # relations below a root field in the queries that select everything
ROOT = Path(__file__).resolve().parents[2]
FULL = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
COMPILABLE = compilable_fields()

settings = reads.settings  # the fixture: the reference app answers on the resolver path

Site = tuple[str, str, str]  # (type, field, argument)


@dataclass(frozen=True)
class Values:
    """What an argument is given: values that make sense, and a few out of range."""

    good: list[Any]
    bad: list[Any] = field(default_factory=list)

    def examples(self, type_: GraphQLInputType) -> list[Any]:
        """A value per kind of global id (for an ID argument; all of them for a list), else the first."""
        if get_named_type(type_).name != "ID":
            return self.good[:1]
        kinds: dict[str, Any] = {}
        for value in self.good:
            kinds.setdefault((from_global_id(value) or ("",))[0], value)
        ids = list(kinds.values())
        return [ids] if isinstance(_nullable(type_), GraphQLList) else ids

    def strategy(self) -> st.SearchStrategy[ValueNode]:
        """One value in ten from ``bad`` (when there are any)."""
        def node(value: Any) -> ValueNode:
            return nodes.Int(value) if isinstance(value, int) else nodes.String(value)

        pick = st.integers(0, 9).flatmap(lambda n: st.sampled_from(self.bad if n == 9 and self.bad else self.good))
        return pick.map(node)


# ------------------------------------------------------------------ arguments from the data


def _sites() -> dict[Site, GraphQLInputType]:
    """Every argument the catalog accepts, with its type in schema.graphql."""
    out: dict[Site, GraphQLInputType] = {}
    for type_name, fields in COMPILABLE.items():
        full = FULL.get_type(type_name)
        if not isinstance(full, GraphQLObjectType):
            continue
        for name, arguments in fields.items():
            definition = full.fields.get(name)
            for argument in arguments:
                if definition is not None and argument in definition.args:
                    out[(type_name, name, argument)] = definition.args[argument].type
    return out


async def argument_values(sessionmaker: Any) -> dict[Site, Values]:
    """Values for the page size, cursor, global id and String arguments: what the data holds (a
    String argument names a column of the row its field returns), rows that do not exist, and a
    few that are out of range (``_in_range`` tells them apart)."""
    async with sessionmaker() as session:
        async def column(table: str, name: str) -> list[Any]:
            return list((await session.execute(text(f"SELECT DISTINCT {name} FROM {table} ORDER BY 1"))).scalars())

        pks = {name: await column(entity.table, "id") for name, entity in ENTITIES.items() if entity.node}
        ids = [to_global_id(name, pk) for name, keys in pks.items() for pk in [*keys, 10**9]]
        cursors = [encode_cursor(pk) for pk in sorted({pk for keys in pks.values() for pk in keys})]
        out: dict[Site, Values] = {}
        for site, type_ in _sites().items():
            returned = get_named_type(FULL.get_type(site[0]).fields[site[1]].type)  # type: ignore[union-attr]
            scalar = get_named_type(type_).name
            if site[2] == "first":
                candidates: list[Any] = [2, 0, 1, 3, 5, 20, MAX_PAGE_SIZE, -1, MAX_PAGE_SIZE + 1]
            elif site[2] == "after":
                candidates = [*cursors, encode_cursor(10**9), "bad", ids[0]]
            elif scalar == "ID":
                candidates = [*ids, "garbage", to_global_id("Nope", 1)]
            elif scalar == "String":
                table = ENTITIES[returned.name].table if returned.name in ENTITIES else None
                name = re.sub(r"([A-Z])", r"_\1", site[2]).lower()
                known = await column(table, name) if table and name in Base.metadata.tables[table].c else []
                candidates = [*known, "NOPE", "", "x" * (DEFAULT_MAX_SEARCH_LENGTH + 1)]
            elif scalar == "Int":
                candidates = [0, 1, 2]
            else:
                continue  # enums and Booleans: hypothesis-graphql's own values
            good = [value for value in candidates if _in_range(site[2], type_, value, returned)]
            out[site] = Values(good, [value for value in candidates if value not in good])
    return out


# ------------------------------------------------------------------ the schema cut down to the catalog


def _nullable(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _argument_type(type_: Any, scalar: str) -> str:
    """``type_`` with its named type replaced by ``scalar`` (``[ID!]!`` -> ``[Query_nodes_ids!]!``)."""
    if isinstance(type_, GraphQLNonNull):
        return _argument_type(type_.of_type, scalar) + "!"
    if isinstance(type_, GraphQLList):
        return f"[{_argument_type(type_.of_type, scalar)}]"
    return scalar


def pruned_schema(values: dict[Site, Values]) -> tuple[str, dict[str, st.SearchStrategy[ValueNode]]]:
    """SDL of schema.graphql cut down to the catalog's types, fields and arguments, and the custom
    scalar strategies it needs: an argument with ``values`` gets a scalar of its own, named after
    its site, so hypothesis-graphql gives each argument values that make sense."""
    objects = [name for name in COMPILABLE if isinstance(FULL.get_type(name), GraphQLObjectType)]
    leaves: dict[str, GraphQLNamedType] = {}  # enums, input types and scalars the kept fields use
    interfaces: dict[str, GraphQLInterfaceType] = {}
    scalars: dict[str, st.SearchStrategy[ValueNode]] = {}
    parts = []

    def use(type_: GraphQLNamedType) -> None:
        if type_.name not in leaves and type_.name not in specified_scalar_types:
            leaves[type_.name] = type_
            for child in getattr(type_, "fields", {}).values():  # an input type's fields
                use(get_named_type(child.type))

    for type_name in objects:
        full = FULL.get_type(type_name)
        assert isinstance(full, GraphQLObjectType)
        lines = []
        for name, arguments in COMPILABLE[type_name].items():
            definition = full.fields.get(name)
            if definition is None:
                continue
            target = get_named_type(definition.type)
            if not (is_leaf_type(target) or target.name in objects or isinstance(target, GraphQLInterfaceType)):
                continue
            if is_leaf_type(target):
                use(target)
            declared = []
            for argument in sorted(arguments & set(definition.args)):
                site, type_ = (type_name, name, argument), definition.args[argument].type
                if site in values:
                    scalars["_".join(site)] = values[site].strategy()
                    declared.append(f"{argument}: {_argument_type(type_, '_'.join(site))}")
                else:
                    use(get_named_type(type_))
                    declared.append(f"{argument}: {type_}")
            lines.append(f"  {name}{'(' + ', '.join(declared) + ')' if declared else ''}: {definition.type}")
        kept = set(COMPILABLE[type_name])
        implements = [i for i in full.interfaces if set(i.fields) <= kept]
        interfaces.update((i.name, i) for i in implements)
        head = f"type {type_name}" + (" implements " + " & ".join(i.name for i in implements) if implements else "")
        parts.append(head + " {\n" + "\n".join(lines) + "\n}")
    for interface in interfaces.values():
        lines = [f"  {name}: {definition.type}" for name, definition in interface.fields.items()]
        parts.append(f"interface {interface.name} {{\n" + "\n".join(lines) + "\n}")
    parts += [f"scalar {name}" for name in scalars]
    parts += [f"scalar {t.name}" if isinstance(t, GraphQLScalarType) else print_type(t) for t in leaves.values()]
    return "\n\n".join(parts) + "\n", scalars


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
        node = get_named_type(edge.fields["node"].type)  # type: ignore[union-attr]
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
        strategies.append(rows.map(lambda rows, call=call, wrap=wrap: f"{{ {call} {wrap(list(rows))} }}"))
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


# ------------------------------------------------------------------ what must compile


def _allowed(parent: GraphQLNamedType) -> dict[str, frozenset[str]]:
    """The catalog's fields of a type; of an interface, those every compiled type of it has."""
    if not isinstance(parent, GraphQLInterfaceType):
        return COMPILABLE.get(parent.name, {})
    types = [t.name for t in FULL.get_implementations(parent).objects if t.name in COMPILABLE]
    return {name: frozenset() for name in parent.fields if types and all(name in COMPILABLE[t] for t in types)}


def _in_range(argument: str, type_: GraphQLInputType, value: Any, returned: GraphQLNamedType) -> bool:
    """A page size within bounds, a cursor, global ids of types whose ids compile (of its own type
    for a lookup), a String within the limits; anything else (enum filters) is in range."""
    if value is None:
        return True
    if isinstance(value, list):
        return all(_in_range(argument, type_, v, returned) for v in value)
    if argument == "first":
        return bool(0 <= value <= MAX_PAGE_SIZE)
    if argument == "after":
        return (from_global_id(value) or ("",))[0] == "cursor"
    if get_named_type(type_).name == "ID":
        kind = (from_global_id(value) or ("",))[0]
        return kind in NODE_SCOPES and (isinstance(returned, GraphQLInterfaceType) or kind == returned.name)
    return not isinstance(value, str) or len(value) <= DEFAULT_MAX_SEARCH_LENGTH


def in_catalog(document: DocumentNode, variables: dict[str, Any], fence: Fence) -> bool:
    """Whether a valid query asks only for catalog fields with arguments the catalog takes, each in
    range, and follows no relation into a table the viewer's fence narrows (the resolvers' for now)."""
    operation = get_operation_ast(document)
    if operation is None or operation.operation != OperationType.QUERY:
        return False
    coerced = get_variable_values(FULL, operation.variable_definitions or (), variables)
    if not isinstance(coerced, VariableValues):
        return False
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def fits(selection_set: SelectionSetNode, parent: GraphQLNamedType) -> bool:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if not field_fits(selection, parent):
                    return False
                continue
            fragment = selection if isinstance(selection, InlineFragmentNode) else fragments[selection.name.value]
            condition = fragment.type_condition
            if not fits(fragment.selection_set, FULL.get_type(condition.name.value) if condition else parent):
                return False
        return True

    def field_fits(node: FieldNode, parent: Any) -> bool:
        name = node.name.value
        if name == "__typename":
            return True
        allowed = _allowed(parent).get(name)
        if allowed is None:
            return False
        definition = parent.fields[name]
        returned = get_named_type(definition.type)
        for argument, value in get_argument_values(definition, node, coerced).items():
            type_ = definition.args[argument].type
            if value is not None and (argument not in allowed or not _in_range(argument, type_, value, returned)):
                return False
        spec = ENTITIES[parent.name].fields.get(name) if parent.name in ENTITIES else None
        table = getattr(spec, "table", None)
        if table is not None and fence.where(Base.metadata.tables[table]) is not None:
            return False
        return node.selection_set is None or fits(node.selection_set, returned)

    return fits(operation.selection_set, FULL.query_type)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the comparison


@dataclass
class Run:
    """One viewer's pass over the corpus: how each query was served, and what went wrong."""

    role: str
    fence: Fence
    reference: httpx.AsyncClient
    compiled: httpx.AsyncClient
    headers: dict[str, str]
    served: Counter[str] = field(default_factory=Counter)
    errors: int = 0  # answered with errors (a limit, an argument out of range): by the resolvers then
    differences: list[str] = field(default_factory=list)
    # by the root fields they ask for
    not_compiled: dict[tuple[str, ...], list[str]] = field(default_factory=dict)

    async def check(self, query: str, variables: dict[str, Any]) -> None:
        body = {"query": query, "variables": variables}
        expected = await self.reference.post("/graphql", json=body, headers=self.headers)
        answer = await self.compiled.post("/graphql", json=body, headers=self.headers)
        path = answer.headers.get(READ_PATH_HEADER, "none")
        self.served[path] += 1
        failed = b'"errors":' in expected.content  # a key: inside a string its quotes are escaped
        self.errors += failed
        case = f"{self.role}: {' '.join(query.split())}  variables: {json.dumps(variables, ensure_ascii=False)}"
        if (answer.status_code, answer.content) != (expected.status_code, expected.content):
            reference, compiled = _around(expected.text, answer.text)
            self.differences.append(f"{case}\n    resolvers {expected.status_code}: {reference}"
                                    f"\n    compiled  {answer.status_code}: {compiled}")
            return
        document = parse(query)
        if path != "compiled" and expected.status_code == 200 and not failed and in_catalog(
            document, variables, self.fence
        ):
            operation = get_operation_ast(document)
            assert operation is not None
            roots = tuple(s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode))
            self.not_compiled.setdefault(roots, []).append(case)

    def report(self) -> str:
        lines = [f"{self.role}: {sum(self.served.values())} queries, {self.served['compiled']} served compiled,"
                 f" {self.errors} answered with errors"]
        if self.differences:
            lines += [f"{len(self.differences)} answered differently by the two paths; the shortest:",
                      *sorted(self.differences, key=len)[:3]]
        if self.not_compiled:
            cases = sum(len(group) for group in self.not_compiled.values())
            lines.append(f"{cases} ask only for catalog fields, arguments in range, yet were served by the"
                         " resolvers; the shortest of each root field:")
            lines += sorted(min(group, key=len) for group in self.not_compiled.values())
        return "\n".join(lines)


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
        run = Run(role, Fence(partner), http, compiled, {"Authorization": f"Bearer {token}"})
        for query, variables in corpus:
            await run.check(query, variables)
    if not run.served["compiled"] or run.differences or run.not_compiled:
        pytest.fail(run.report(), pytrace=False)
    print(run.report())  # with -s: how many were served compiled
