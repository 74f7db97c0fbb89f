"""Plan a read operation into one SQL statement that returns its ``data`` object as JSON text.

The statement concatenates the JSON itself (``'{"sku":' || ... || '}'``) rather than using
``json_build_object``: PostgreSQL's json output puts spaces around ``:`` and jsonb reorders
keys, while the response must carry the selection's order and the resolver path's exact
bytes (compact separators, UTF-8). Strings go through ``to_json(...)::text``, which escapes
as Python's ``json.dumps(..., ensure_ascii=False)`` does.

:func:`plan` answers None whenever anything in the operation is not compilable (a field
the catalog does not list, an argument that filters, a root field the viewer may not
use, a page size out of range, a bad cursor): the resolver path then runs the operation
whole and reports what it reports. Fragments, inline fragments, aliases, ``__typename``
and ``@include``/``@skip`` are resolved here against the variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_operation_ast,
    value_from_ast,
)
from graphql.execution.values import VariableValues, get_directive_values, get_variable_values
from graphql.language import DocumentNode
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

from api.compiled.catalog import ENTITIES, ROOT_CONNECTIONS, Entity, Kind, Many, One, RootConnection, Value
from api.limits import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from api.relay import from_global_id
from domain.identity.fence import Fence
from domain.identity.services import Principal
from domain.shared.db import Base


class NotCompilable(Exception):
    """Something in the operation is for the resolver path."""


@dataclass
class Plan:
    """The statement (``$1``, ``$2``... binds, as asyncpg prepares it) and its arguments."""

    sql: str
    args: list[Any] = field(default_factory=list)
    aliases: int = 0
    # a connection's page, read by its edges and its pageInfo: computed once (a CTE read twice is materialized)
    pages: list[str] = field(default_factory=list)
    # served once after every check of the request passed (api.compiled.extension.answer_known)
    proven: bool = False

    def page(self, select: str) -> str:
        """The name of a new CTE for ``select``."""
        self.pages.append(select)
        return f"page{len(self.pages)}"

    def alias(self) -> str:
        """A fresh table alias for a related row."""
        self.aliases += 1
        return f"r{self.aliases}"

    def bind(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


@dataclass(frozen=True)
class _Operation:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: VariableValues
    viewer: Principal
    fence: Fence


def plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None,
    viewer: Principal, fence: Fence,
) -> Plan | None:
    """The compiled statement of a validated query operation, or None to use the resolver path
    (which also reports variables that do not coerce)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if not isinstance(coerced, VariableValues):
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    context = _Operation(schema, fragments, coerced, viewer, fence)
    out = Plan("")
    try:
        members = []
        for key, node in _fields(context, operation.selection_set, "Query"):
            members.append((key, _root_field(context, node, out)))
    except NotCompilable:
        return None
    pages = ", ".join(f"page{n} AS ({select})" for n, select in enumerate(out.pages, 1))
    out.sql = (f"WITH {pages} " if pages else "") + "SELECT " + _object(members)
    return out


# ------------------------------------------------------------------ selections


def _fields(context: _Operation, selection_set: SelectionSetNode | None, type_name: str) -> list[tuple[str, FieldNode]]:
    """The fields a selection set asks of an object of ``type_name``, fragments and directives resolved,
    in order, merged by response key (validation guarantees merged fields are the same field)."""
    merged: dict[str, FieldNode] = {}
    order: list[str] = []
    for node in _collect(context, selection_set, type_name):
        key = node.alias.value if node.alias else node.name.value
        if key in merged:
            merged[key] = _merge(merged[key], node)
        else:
            merged[key] = node
            order.append(key)
    return [(key, merged[key]) for key in order]


def _collect(context: _Operation, selection_set: SelectionSetNode | None, type_name: str) -> list[FieldNode]:
    if selection_set is None:
        return []
    found: list[FieldNode] = []
    for selection in selection_set.selections:
        if not _included(context, selection):
            continue
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else type_name
            if condition != type_name:
                raise NotCompilable  # abstract types (Node) are not compiled yet
            found.extend(_collect(context, selection.selection_set, type_name))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = context.fragments[selection.name.value]
            if fragment.type_condition.name.value != type_name:
                raise NotCompilable
            found.extend(_collect(context, fragment.selection_set, type_name))
    return found


def _merge(first: FieldNode, second: FieldNode) -> FieldNode:
    if first.selection_set is None or second.selection_set is None:
        return first
    selections = (*first.selection_set.selections, *second.selection_set.selections)
    return FieldNode(
        alias=first.alias, name=first.name, arguments=first.arguments, directives=(),
        selection_set=SelectionSetNode(selections=selections),
    )


def _included(context: _Operation, node: Any) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, context.variables)
    if skip and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, context.variables)
    return not (include and include.get("if") is False)


def _arguments(context: _Operation, node: FieldNode, parent: str) -> dict[str, Any]:
    definition = context.schema.get_type(parent).fields[node.name.value]  # type: ignore[union-attr]
    values: dict[str, Any] = {}
    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    for name, argument in definition.args.items():
        value = (value_from_ast(given[name], argument.type, context.variables.coerced) if name in given
                 else argument.default_value)
        values[name] = None if value is Undefined else value
    return values


# ------------------------------------------------------------------ JSON text


def _object(members: list[tuple[str, str]]) -> str:
    """SQL text of a JSON object with these keys (GraphQL names: no escaping) and value expressions."""
    if not members:
        return "'{}'"
    parts = []
    for index, (key, value) in enumerate(members):
        prefix = "{" if index == 0 else ","
        parts.append(f"'{prefix}\"{key}\":' || {value}")
    return "(" + " || ".join(parts) + " || '}')"


def _string(literal: str) -> str:
    escaped = literal.replace("'", "''")
    return f"'\"{escaped}\"'"


def _value(value: Value, alias: str) -> str:
    ref = value.expression.format(a=alias)
    if value.kind in (Kind.TEXT, Kind.BOOL, Kind.TEXT_LIST):
        expression = f"to_json({ref})::text"
    elif value.kind == Kind.INT:
        expression = f"({ref})::text"
    elif value.kind == Kind.DECIMAL:
        expression = f"'\"' || graphql_decimal({ref}) || '\"'"
    elif value.kind == Kind.DATETIME:
        expression = f"'\"' || graphql_datetime({ref}) || '\"'"
    else:  # Kind.DATE
        expression = f"'\"' || ({ref})::text || '\"'"
    return f"coalesce({expression}, 'null')"


# ------------------------------------------------------------------ fields


def _root_field(context: _Operation, node: FieldNode, out: Plan) -> str:
    name = node.name.value
    if name == "__typename":
        return _string("Query")
    connection = ROOT_CONNECTIONS.get(name)
    if connection is None or not context.viewer.can(connection.scope):
        raise NotCompilable
    arguments = _arguments(context, node, "Query")
    if any(arguments.get(filter_) is not None for filter_ in connection.filters):
        raise NotCompilable
    return _connection(context, node, connection, arguments, out)


def _connection(
    context: _Operation, node: FieldNode, connection: RootConnection, arguments: Mapping[str, Any], out: Plan
) -> str:
    first = arguments.get("first")
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise NotCompilable
    after_pk: int | None = None
    if arguments.get("after") is not None:
        decoded = from_global_id(arguments["after"])
        if decoded is None or decoded[0] != "cursor":
            raise NotCompilable
        after_pk = decoded[1]
    entity = ENTITIES[connection.entity]
    table = entity.table
    fence = _fence(context, entity)
    where = [fence]
    if after_pk is not None:
        where.append(f"{table}.id > {out.bind(after_pk)}")
    condition = " AND ".join(w for w in where if w) or "true"
    type_name = f"{entity.type_name}Connection"
    members: list[tuple[str, str]] = []
    # one row more than the page: hasNextPage
    page = out.page(
        f"SELECT {table}.*, row_number() OVER (ORDER BY {table}.id) AS n FROM {table} "
        f"WHERE {condition} ORDER BY {table}.id LIMIT {out.bind(size + 1)}"
    )
    limit = out.bind(size)
    for key, field_node in _fields(context, node.selection_set, type_name):
        field_name = field_node.name.value
        if field_name == "__typename":
            members.append((key, _string(type_name)))
        elif field_name == "totalCount":
            members.append((key, f"(SELECT count(*) FROM {table} WHERE {fence or 'true'})::text"))
        elif field_name == "edges":
            edge = _edge(context, field_node, entity, out)
            members.append((key, (
                f"(SELECT coalesce('[' || string_agg({edge}, ',' ORDER BY t.id) || ']', '[]') "
                f"FROM {page} t WHERE t.n <= {limit})"
            )))
        elif field_name == "pageInfo":
            members.append((key, _page_info(context, field_node, page, limit, after_pk is not None)))
        else:
            raise NotCompilable
    return _object(members)


def _edge(context: _Operation, node: FieldNode, entity: Entity, out: Plan) -> str:
    members: list[tuple[str, str]] = []
    type_name = f"{entity.type_name}Edge"
    for key, field_node in _fields(context, node.selection_set, type_name):
        field_name = field_node.name.value
        if field_name == "__typename":
            members.append((key, _string(type_name)))
        elif field_name == "cursor":
            members.append((key, "'\"' || graphql_cursor(t.id) || '\"'"))
        elif field_name == "node":
            members.append((key, _entity(context, field_node, entity, "t", out)))
        else:
            raise NotCompilable
    return _object(members)


def _page_info(context: _Operation, node: FieldNode, page: str, limit: str, has_previous: bool) -> str:
    members: list[tuple[str, str]] = []
    for key, field_node in _fields(context, node.selection_set, "PageInfo"):
        field_name = field_node.name.value
        if field_name == "__typename":
            members.append((key, _string("PageInfo")))
        elif field_name == "hasNextPage":
            members.append((key, f"(SELECT CASE WHEN count(*) > {limit} THEN 'true' ELSE 'false' END FROM {page} t)"))
        elif field_name == "hasPreviousPage":
            members.append((key, "'true'" if has_previous else "'false'"))
        elif field_name in ("startCursor", "endCursor"):
            pick = "min" if field_name == "startCursor" else "max"
            members.append((key, (
                f"coalesce((SELECT '\"' || graphql_cursor({pick}(t.id)) || '\"' FROM {page} t "
                f"WHERE t.n <= {limit}), 'null')"
            )))
        else:
            raise NotCompilable
    return _object(members)


def _entity(context: _Operation, node: FieldNode, entity: Entity, alias: str, out: Plan) -> str:
    """The JSON object of one row of ``entity`` (table alias ``alias``) with the fields ``node`` selects."""
    members: list[tuple[str, str]] = []
    for key, field_node in _fields(context, node.selection_set, entity.type_name):
        field_name = field_node.name.value
        spec = entity.fields.get(field_name)
        if field_name == "__typename":
            members.append((key, _string(entity.type_name)))
        elif field_name == "id" and entity.node:
            members.append((key, f"'\"' || graphql_id('{entity.type_name}', {alias}.id) || '\"'"))
        elif field_node.arguments:
            raise NotCompilable  # no listed field takes arguments yet
        elif isinstance(spec, Value):
            hidden = spec.hidden_without is not None and not context.viewer.can(spec.hidden_without)
            members.append((key, "'null'" if hidden else _value(spec, alias)))
        elif isinstance(spec, One):
            related, row = _related(context, spec.type_name, spec.table), out.alias()
            where = spec.where.format(a=alias, x=row)
            inner = _entity(context, field_node, related, row, out)
            members.append((key, f"coalesce((SELECT {inner} FROM {spec.table} {row} WHERE {where}), 'null')"))
        elif isinstance(spec, Many):
            related, row = _related(context, spec.type_name, spec.table), out.alias()
            where, order = spec.where.format(a=alias, x=row), spec.order.format(a=alias, x=row)
            inner = _entity(context, field_node, related, row, out)
            members.append((key, (
                f"(SELECT coalesce('[' || string_agg({inner}, ',' ORDER BY {order}) || ']', '[]') "
                f"FROM {spec.table} {row} WHERE {where})"
            )))
        else:
            raise NotCompilable
    return _object(members)


def _related(context: _Operation, type_name: str, table: str) -> Entity:
    """The entity a relation leads to; a fenced table is reached only through its root for now."""
    if _fence_of(context, table):
        raise NotCompilable
    return ENTITIES[type_name]


def _fence(context: _Operation, entity: Entity) -> str:
    return _fence_of(context, entity.table)


def _fence_of(context: _Operation, table_name: str) -> str:
    """The partner fence of a table as SQL (literal values: it is part of the plan's key); "" if none."""
    table = Base.metadata.tables[table_name]
    assert isinstance(table, Table)
    condition = context.fence.where(table)
    if condition is None:
        return ""
    compiled = condition.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})  # type: ignore[no-untyped-call]
    return str(compiled)
