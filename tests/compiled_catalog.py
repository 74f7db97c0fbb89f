"""The compiled reads' catalog seen from a client: what it accepts, and what to ask it.

``api.compiled.catalog.compilable_fields()`` lists the fields that compile and the arguments
each takes. From it and ``schema.graphql`` this module writes a schema cut down to the catalog
(for hypothesis-graphql to write queries from), gives each argument values that make sense
(from the seeded data, rows that do not exist, a few out of range), and tells whether a query
asks only for what the catalog promises to compile (``in_catalog``). Nothing here names a
field: everything follows the catalog as it grows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    build_schema,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
    print_type,
    specified_scalar_types,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from sqlalchemy import text

from api.compiled.catalog import ENTITIES, NODE_SCOPES, compilable_fields
from api.limits import DEFAULT_MAX_SEARCH_LENGTH, MAX_PAGE_SIZE
from api.relay import encode_cursor, from_global_id, to_global_id
from domain.shared.db import Base

ROOT = Path(__file__).resolve().parents[1]
FULL = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
COMPILABLE = compilable_fields()

Site = tuple[str, str, str]  # an argument: (type, field, argument)


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


def _sites() -> dict[Site, tuple[GraphQLInputType, GraphQLNamedType]]:
    """Every argument the catalog accepts: its type in schema.graphql, and the type its field returns."""
    out: dict[Site, tuple[GraphQLInputType, GraphQLNamedType]] = {}
    for type_name, fields in COMPILABLE.items():
        full = FULL.get_type(type_name)
        if not isinstance(full, GraphQLObjectType):
            continue
        for name, arguments in fields.items():
            definition = full.fields.get(name)
            for argument in arguments:
                if definition is not None and argument in definition.args:
                    out[(type_name, name, argument)] = (definition.args[argument].type,
                                                        get_named_type(definition.type))
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
        for site, (type_, returned) in _sites().items():
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
            elif isinstance(target, GraphQLInterfaceType):
                interfaces[target.name] = target
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
    if get_named_type(type_).name == "ID" and isinstance(returned, GraphQLInterfaceType):
        # node(s): an id that is not ours is null, one of a type that does not compile is the resolvers'
        decoded = from_global_id(value)
        return decoded is None or decoded[0] in NODE_SCOPES
    return not isinstance(value, str) or len(value) <= DEFAULT_MAX_SEARCH_LENGTH


def in_catalog(document: DocumentNode, variables: dict[str, Any]) -> bool:
    """Whether a valid query asks only for catalog fields with arguments the catalog takes, each in
    range (a lookup's id of another type, or not ours, answers null: in range)."""
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
            fragment = selection if isinstance(selection, InlineFragmentNode) else fragments[
                cast(FragmentSpreadNode, selection).name.value]
            condition = fragment.type_condition
            if not fits(fragment.selection_set, FULL.type_map[condition.name.value] if condition else parent):
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
        return node.selection_set is None or fits(node.selection_set, returned)

    return fits(operation.selection_set, FULL.query_type)  # type: ignore[arg-type]
