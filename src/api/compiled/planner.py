"""Plan a read operation into one SQL statement that returns its ``data`` object as JSON text.

The statement concatenates the JSON itself (``'{"sku":' || ... || '}'``) rather than using
``json_build_object``: PostgreSQL's json output puts spaces around ``:`` and jsonb reorders
keys, while the response must carry the selection's order and the resolver path's exact
bytes (compact separators, UTF-8). Strings go through ``to_json(...)::text``, which escapes
as Python's ``json.dumps(..., ensure_ascii=False)`` does.

:func:`plan` answers None whenever anything in the operation is not compilable (a field
the catalog does not list, an argument it leaves to the resolvers, a root field the viewer
may not use, a page size out of range, a bad cursor): the resolver path then runs the
operation whole and reports what it reports. Fragments, inline fragments, aliases,
``__typename`` and ``@include``/``@skip`` are resolved here against the variables.

A plan records how it depends on each variable (:data:`FULL`, or a slot: a cursor, an id,
a lookup key) so that one plan serves every value of the same shape (:meth:`Plan.fits`,
:meth:`Plan.arguments`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    Node,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    Visitor,
    get_operation_ast,
    value_from_ast,
    visit,
)
from graphql.execution.values import VariableValues, get_directive_values, get_variable_values
from graphql.language import DocumentNode
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.util import ClauseAdapter

from api.compiled.catalog import (
    ENTITIES,
    NODE_SCOPES,
    ROOT_CONNECTIONS,
    ROOT_LISTS,
    ROOT_LOOKUPS,
    Connection,
    Entity,
    Kind,
    Many,
    One,
    RootLookup,
    Value,
)
from api.limits import check_page_size
from api.relay import decode_cursor, from_global_id
from api.text import text_problem
from domain.identity.fence import Fence
from domain.identity.services import Principal
from domain.shared.db import Base
from domain.shared.errors import DomainError


class NotCompilable(Exception):
    """Something in the operation is for the resolver path."""


# How a plan depends on a variable. FULL: on its value (the plan is for that value only). The
# slots: only on the kind of value (null or not, a valid cursor or not, which type an id is of),
# so that one plan serves every page of a list and every record of a lookup; the value itself
# is bound when the plan runs.
FULL, CURSOR, ID, KEY = "full", "cursor", "id", "key"
_MISSING = object()


def shape(kind: str, raw: Any, max_length: int) -> tuple[Any, ...]:
    """What a plan made for ``raw`` (a variable's JSON value, ``_MISSING`` when not given) holds
    true of it: two values with the same shape get the same statement and pass the same checks
    (text that can be stored, the limit on a string argument's length)."""
    if raw is _MISSING:
        return ("absent",)
    if raw is None:
        return ("null",)
    if kind != FULL and isinstance(raw, str) and len(raw) <= max_length and text_problem(raw) is None:
        if kind == KEY:
            return (KEY,)
        decoded = from_global_id(raw)
        if kind == CURSOR:
            return (CURSOR, decoded is not None and decoded[0] == "cursor")
        return (ID, None if decoded is None else decoded[0])
    return (FULL, json.dumps(raw, sort_keys=True))


def _slot_value(kind: str, raw: Any) -> Any:
    """The bound value of a slot variable whose shape matched (a cursor's or an id's key, a key's text)."""
    if kind == KEY:
        return raw
    decoded = from_global_id(raw)
    assert decoded is not None
    return decoded[1]


@dataclass
class Plan:
    """The statement (``$1``, ``$2``... binds, as asyncpg prepares it) and its arguments, and
    what it holds for: the shape of each variable of the operation."""

    sql: str
    args: list[Any] = field(default_factory=list)
    aliases: int = 0
    # variable -> FULL or a slot kind; the args bound from a slot variable: index -> (variable, kind)
    depends: dict[str, str] = field(default_factory=dict)
    slots: dict[int, tuple[str, str]] = field(default_factory=dict)
    shapes: tuple[tuple[Any, ...], ...] = ()
    # served once after every check of the request passed (api.compiled.extension.answer_known)
    proven: bool = False

    def alias(self) -> str:
        """A fresh table alias for a related row."""
        self.aliases += 1
        return f"r{self.aliases}"

    def bind(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def bind_slot(self, variable: str, kind: str, value: Any) -> str:
        """A parameter taken from a slot variable each time the plan runs (``value``: this time's)."""
        self.slots[len(self.args)] = (variable, kind)
        return self.bind(value)

    def shape_of(self, variables: Mapping[str, Any] | None, max_length: int) -> tuple[tuple[Any, ...], ...]:
        given = variables or {}
        return tuple(shape(kind, given.get(name, _MISSING), max_length) for name, kind in self.depends.items())

    def fits(self, variables: Mapping[str, Any] | None, max_length: int) -> bool:
        """Whether this plan answers for ``variables`` (every variable of the same shape)."""
        return self.shape_of(variables, max_length) == self.shapes

    def arguments(self, variables: Mapping[str, Any] | None) -> list[Any]:
        """The statement's arguments for ``variables`` (which :meth:`fits`)."""
        if not self.slots:
            return self.args
        given, args = variables or {}, list(self.args)
        for index, (variable, kind) in self.slots.items():
            args[index] = _slot_value(kind, given.get(variable))
        return args


@dataclass(frozen=True)
class _Operation:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: VariableValues
    viewer: Principal
    fence: Fence
    # how the plan depends on each variable used so far (FULL or a slot kind)
    uses: dict[str, str] = field(default_factory=dict)

    def use(self, variable: str, kind: str) -> None:
        """``variable`` is used as ``kind``; used two ways, the plan depends on its value."""
        known = self.uses.get(variable)
        self.uses[variable] = kind if known in (None, kind) else FULL

    def use_all(self, node: Node) -> None:
        """Every variable under ``node`` (an argument's value, a directive) is used by value."""
        visit(node, _Variables(self))


class _Variables(Visitor):
    def __init__(self, context: _Operation) -> None:
        super().__init__()
        self.context = context

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.context.use(node.name.value, FULL)


def plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None,
    viewer: Principal, fence: Fence, max_length: int = 0,
) -> Plan | None:
    """The compiled statement of a validated query operation, or None to use the resolver path
    (which also reports variables that do not coerce). ``max_length``: the longest string
    argument the limits let through (a slot variable's shape says whether it is within)."""
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
    out.sql = "SELECT " + _object(members)
    # a variable the plan does not read still had to coerce: the plan is for its value
    out.depends = {d.variable.name.value: context.uses.get(d.variable.name.value, FULL)
                   for d in operation.variable_definitions or ()}
    out.shapes = out.shape_of(variables, max_length)
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
            if _applies(context, condition, type_name):
                found.extend(_collect(context, selection.selection_set, type_name))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = context.fragments[selection.name.value]
            if _applies(context, fragment.type_condition.name.value, type_name):
                found.extend(_collect(context, fragment.selection_set, type_name))
    return found


def _applies(context: _Operation, condition: str, type_name: str) -> bool:
    """Whether a fragment on ``condition`` applies to an object of ``type_name`` (its own type,
    or an interface or union it belongs to)."""
    if condition == type_name:
        return True
    abstract, concrete = context.schema.get_type(condition), context.schema.get_type(type_name)
    return (isinstance(abstract, GraphQLInterfaceType | GraphQLUnionType) and isinstance(concrete, GraphQLObjectType)
            and context.schema.is_sub_type(abstract, concrete))


def _merge(first: FieldNode, second: FieldNode) -> FieldNode:
    if first.selection_set is None or second.selection_set is None:
        return first
    selections = (*first.selection_set.selections, *second.selection_set.selections)
    return FieldNode(
        alias=first.alias, name=first.name, arguments=first.arguments, directives=(),
        selection_set=SelectionSetNode(selections=selections),
    )


def _included(context: _Operation, node: Any) -> bool:
    for directive in node.directives or ():
        context.use_all(directive)
    skip = get_directive_values(GraphQLSkipDirective, node, context.variables)
    if skip and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, context.variables)
    return not (include and include.get("if") is False)


class _Arguments(dict[str, Any]):
    """A field's argument values; ``slots``: those given as a variable used as a slot."""

    def __init__(self) -> None:
        super().__init__()
        self.slots: dict[str, tuple[str, str]] = {}  # argument -> (variable, kind)

    @classmethod
    def of(cls, **values: Any) -> _Arguments:
        made = cls()
        made.update(values)
        return made

    def bind(self, out: Plan, name: str, value: Any) -> str:
        """A parameter of ``value`` (what the argument gives): a slot's when the argument is one."""
        if name in self.slots:
            return out.bind_slot(*self.slots[name], value)
        return out.bind(value)


def _arguments(context: _Operation, node: FieldNode, parent: str, slots: Mapping[str, str] | None = None) -> _Arguments:
    """The argument values of a field. ``slots``: the arguments that may be slots (argument ->
    kind) when given as a variable; every other variable is used by value."""
    definition = context.schema.get_type(parent).fields[node.name.value]  # type: ignore[union-attr]
    values = _Arguments()
    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    for name, argument in definition.args.items():
        if name in given:
            kind, ast = (slots or {}).get(name), given[name]
            if kind is not None and isinstance(ast, VariableNode):
                context.use(ast.name.value, kind)
                values.slots[name] = (ast.name.value, kind)
            else:
                context.use_all(given[name])
            value = value_from_ast(given[name], argument.type, context.variables.coerced)
        else:
            value = argument.default_value
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
    if name not in ("node", "nodes") and name not in ROOT_LISTS and name not in ROOT_LOOKUPS \
            and name not in ROOT_CONNECTIONS:
        raise NotCompilable  # introspection (__type, __schema) and everything the catalog does not list
    slots = {"id": ID} if name == "node" else {"id": ID, **dict.fromkeys(ROOT_LOOKUPS[name].keys, KEY)} \
        if name in ROOT_LOOKUPS else {"after": CURSOR}
    arguments = _arguments(context, node, "Query", slots)
    if name == "node":
        return _node(context, node, arguments, out)
    if name == "nodes":
        if not arguments["ids"]:
            return "'[]'"
        each = [_node(context, node, _Arguments.of(id=global_id), out) for global_id in arguments["ids"]]
        return "('[' || " + " || ',' || ".join(each) + " || ']')"
    listed = ROOT_LISTS.get(name)
    if listed is not None:
        if not context.viewer.can(listed.scope):
            raise NotCompilable
        return _list(context, node, ENTITIES[listed.entity], "true", listed.order, out)
    lookup = ROOT_LOOKUPS.get(name)
    if lookup is not None:
        if not context.viewer.can(lookup.scope):
            raise NotCompilable  # FORBIDDEN, which the resolver path reports
        return _lookup(context, node, lookup, arguments, out)
    connection = ROOT_CONNECTIONS.get(name)
    if connection is None or not context.viewer.can(connection.scope):
        raise NotCompilable
    if any(arguments.get(argument) is not None for argument in connection.unplanned):
        raise NotCompilable
    entity, row = ENTITIES[connection.entity], out.alias()
    conditions = _filters(connection.filters, arguments, row, out)
    return _connection(context, node, entity, row, conditions, arguments, out)


def _filters(filters: Mapping[str, str], arguments: Mapping[str, Any], row: str, out: Plan) -> list[str]:
    """The conditions of the filter arguments given (not null, not an empty list)."""
    conditions = []
    for argument, condition in filters.items():
        value = arguments.get(argument)
        if value is None or value == []:
            continue
        value = [getattr(v, "value", v) for v in value] if isinstance(value, list) else getattr(value, "value", value)
        conditions.append(condition.format(x=row, v=out.bind(value)))
    return conditions


def _node(context: _Operation, node: FieldNode, arguments: _Arguments, out: Plan) -> str:
    """``node(id:)`` as api.node answers it: null for an id that is not ours or a type the viewer
    may not read; the row's object (of its concrete type) otherwise."""
    decoded = from_global_id(arguments["id"])
    if decoded is None:
        return "'null'"
    type_name, pk = decoded
    scope = NODE_SCOPES.get(type_name)
    if scope is None:
        raise NotCompilable  # a type that does not compile yet (or not a node at all: the resolvers say)
    if not context.viewer.can(scope):
        return "'null'"
    return _row(context, node, ENTITIES[type_name], [f"{{x}}.id = {arguments.bind(out, 'id', pk)}"], out)


def _lookup(context: _Operation, node: FieldNode, lookup: RootLookup, arguments: _Arguments, out: Plan) -> str:
    """``customer(id, code)`` as api.relay.lookup answers it: by the global id when given (null if it
    is not one of this type), else by the first key given, else null."""
    entity = ENTITIES[lookup.entity]
    if arguments.get("id") is not None:
        decoded = from_global_id(arguments["id"])
        if decoded is None or decoded[0] != entity.type_name:
            return "'null'"
        return _row(context, node, entity, [f"{{x}}.id = {arguments.bind(out, 'id', decoded[1])}"], out)
    for argument, column in lookup.keys.items():
        if arguments.get(argument) is not None:
            key = arguments.bind(out, argument, arguments[argument])
            return _row(context, node, entity, [f"{{x}}.{column} = {key}"], out)
    return "'null'"


def _row(context: _Operation, node: FieldNode, entity: Entity, where: list[str], out: Plan) -> str:
    """The object of the row of ``entity`` that ``where`` (``{x}``: the row) picks, fenced; null if none."""
    row = out.alias()
    conditions = [w.format(x=row) for w in where] + [_fence_of(context, entity.table, row)]
    inner = _entity(context, node, entity, row, out)
    return f"coalesce((SELECT {inner} FROM {entity.table} {row} WHERE {_and(conditions)}), 'null')"


def _list(context: _Operation, node: FieldNode, entity: Entity, where: str, order: str, out: Plan) -> str:
    """The JSON array of the rows of ``entity`` that ``where`` picks (``{x}``: the row), fenced, in ``order``."""
    row = out.alias()
    conditions = [where.format(x=row), _fence_of(context, entity.table, row)]
    inner = _entity(context, node, entity, row, out)
    return (f"(SELECT coalesce('[' || string_agg({inner}, ',' ORDER BY {order.format(x=row)}) || ']', '[]') "
            f"FROM {entity.table} {row} WHERE {_and(conditions)})")


def _and(conditions: list[str]) -> str:
    return " AND ".join(c for c in conditions if c) or "true"


def _page(arguments: Mapping[str, Any]) -> tuple[int, int | None]:
    """(size, the id the page starts after), checked by api.relay's own rules; a size or cursor
    they refuse is NotCompilable (the resolver path reports the error)."""
    try:
        return check_page_size(arguments.get("first")), decode_cursor(arguments.get("after"))
    except (GraphQLError, DomainError):
        raise NotCompilable from None


def _connection(
    context: _Operation, node: FieldNode, entity: Entity, row: str, conditions: list[str],
    arguments: _Arguments, out: Plan,
) -> str:
    """A keyset connection over the rows of ``entity`` (alias ``row``) that ``conditions`` pick (fenced), in id
    order, as api.relay pages them: one aggregate over the page (one row more than its size)
    writes the edges and pageInfo; totalCount counts every row, ``after`` aside."""
    size, after_pk = _page(arguments)
    table, page = entity.table, out.alias()
    matching = _and([*conditions, _fence_of(context, table, row)])
    starts = f" AND {row}.id > {arguments.bind(out, 'after', after_pk)}" if after_pk is not None else ""
    limit = str(size)  # checked to be an int in range: written as it is, bound or not it's in the key
    in_page = f"FILTER (WHERE {page}.n <= {limit})"
    type_name = f"{entity.type_name}Connection"
    members: list[tuple[str, str]] = []
    for key, field_node in _fields(context, node.selection_set, type_name):
        field_name = field_node.name.value
        if field_name == "__typename":
            members.append((key, _string(type_name)))
        elif field_name == "totalCount":
            members.append((key, f"(SELECT count(*) FROM {table} {row} WHERE {matching})::text"))
        elif field_name == "edges":
            edge = _edge(context, field_node, entity, page, out)
            members.append((key, f"coalesce('[' || string_agg({edge}, ',' ORDER BY {page}.id) {in_page} || ']', '[]')"))
        elif field_name == "pageInfo":
            members.append((key, _page_info(context, field_node, page, limit, in_page, after_pk is not None)))
        else:
            raise NotCompilable
    rows = (f"SELECT {row}.*, row_number() OVER (ORDER BY {row}.id) AS n FROM {table} {row} "
            f"WHERE {matching}{starts} ORDER BY {row}.id LIMIT {size + 1}")
    # GROUP BY (): one row, aggregates or not, rows or none
    return f"(SELECT {_object(members)} FROM ({rows}) {page} GROUP BY ())"


def _edge(context: _Operation, node: FieldNode, entity: Entity, page: str, out: Plan) -> str:
    members: list[tuple[str, str]] = []
    type_name = f"{entity.type_name}Edge"
    for key, field_node in _fields(context, node.selection_set, type_name):
        field_name = field_node.name.value
        if field_name == "__typename":
            members.append((key, _string(type_name)))
        elif field_name == "cursor":
            members.append((key, f"'\"' || graphql_cursor({page}.id) || '\"'"))
        elif field_name == "node":
            members.append((key, _entity(context, field_node, entity, page, out)))
        else:
            raise NotCompilable
    return _object(members)


def _page_info(context: _Operation, node: FieldNode, page: str, limit: str, in_page: str, has_previous: bool) -> str:
    members: list[tuple[str, str]] = []
    for key, field_node in _fields(context, node.selection_set, "PageInfo"):
        field_name = field_node.name.value
        if field_name == "__typename":
            members.append((key, _string("PageInfo")))
        elif field_name == "hasNextPage":
            members.append((key, f"CASE WHEN count(*) > {limit} THEN 'true' ELSE 'false' END"))
        elif field_name == "hasPreviousPage":
            members.append((key, "'true'" if has_previous else "'false'"))
        elif field_name in ("startCursor", "endCursor"):
            pick = "min" if field_name == "startCursor" else "max"
            members.append((key, f"coalesce('\"' || graphql_cursor({pick}({page}.id) {in_page}) || '\"', 'null')"))
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
        elif isinstance(spec, Connection):
            arguments = _arguments(context, field_node, entity.type_name, {"after": CURSOR})
            related, row = ENTITIES[spec.type_name], out.alias()
            conditions = [spec.where.format(a=alias, x=row), *_filters(spec.filters, arguments, row, out)]
            members.append((key, _connection(context, field_node, related, row, conditions, arguments, out)))
        elif field_node.arguments:
            raise NotCompilable  # no other listed field takes arguments
        elif isinstance(spec, Value):
            hidden = spec.hidden_without is not None and not context.viewer.can(spec.hidden_without)
            members.append((key, "'null'" if hidden else _value(spec, alias)))
        elif isinstance(spec, One):
            members.append((key, _row(context, field_node, ENTITIES[spec.type_name],
                                      [spec.where.replace("{a}", alias)], out)))
        elif isinstance(spec, Many):
            members.append((key, _list(context, field_node, ENTITIES[spec.type_name],
                                       spec.where.replace("{a}", alias), spec.order, out)))
        else:
            raise NotCompilable
    return _object(members)


def _fence_of(context: _Operation, table_name: str, alias: str) -> str:
    """The partner fence of a table's row (alias ``alias``) as SQL, "" if none. Its values are
    literals: the fence is part of the plan's key."""
    table = Base.metadata.tables[table_name]
    assert isinstance(table, Table)
    condition = context.fence.where(table)
    if condition is None:
        return ""
    condition = ClauseAdapter(table.alias(alias)).traverse(condition)
    compiled = condition.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})  # type: ignore[no-untyped-call]
    return str(compiled)
