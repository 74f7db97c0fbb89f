"""Query limits checked before anything executes: tokens, depth, aliases, page size, cost,
and the size of search and filter arguments."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.types.graphql import OperationType

DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100
DEFAULT_MAX_LINES: Final = 500
DEFAULT_MAX_SEARCH_LENGTH: Final = 200
DEFAULT_MAX_LIST_ENTRIES: Final = 100

# Plain lists with one entry per value of an enum (their real maximum), by "Type.field".
ENUM_LISTS: Final = {"Query.pipeline": "OpportunityStage"}


def check_page_size(first: int | None) -> int:
    """The page size for a ``first`` argument: DEFAULT_PAGE_SIZE when omitted.

    Raises GraphQLError when ``first`` is negative or above MAX_PAGE_SIZE. The
    limits extension already rejects such requests before execution; resolvers call
    this as defence in depth.
    """
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise GraphQLError(
            f'Argument "first" must be between 0 and {MAX_PAGE_SIZE}, got {first}.',
            extensions={"code": "PAGE_SIZE_OUT_OF_RANGE", "first": first, "maxPageSize": MAX_PAGE_SIZE},
        )
    return first


@dataclass(frozen=True)
class InputBounds:
    """Bounds on what one request may ask for besides its selections."""

    # Items of a plain list field (document lines, contacts, ...): the cost multiplier.
    max_lines: int = DEFAULT_MAX_LINES
    # Characters of a String argument of a query or subscription field (search, code, sku).
    max_search_length: int = DEFAULT_MAX_SEARCH_LENGTH
    # Entries of a list of ids or enum values given as an argument (``nodes(ids:)``, ``status:``).
    max_list_entries: int = DEFAULT_MAX_LIST_ENTRIES
    # The longest each plain list is in the data, by "Type.field" (api.list_maxima), when known.
    real_maximum: Callable[[str], int | None] | None = None


def limit_extensions(
    *, max_depth: int, max_aliases: int, max_tokens: int, max_cost: int,
    bounds: InputBounds | None = None,
) -> list[Callable[[], SchemaExtension]]:
    """Extension factories for ``strawberry.Schema(extensions=...)``, in the order given.

    Tokens are limited while parsing (the variables' tokens count too); fragment
    fan-out, depth and aliases during validation; page sizes (``first`` in
    ``[0, MAX_PAGE_SIZE]``), argument sizes (``bounds``) and the query cost (see
    ``query_cost``) after validation, before any resolver runs. Every rejection is a
    plain GraphQL error and the response is ``data: null``.

    Keep these ahead of ``ValidationCache`` (which validates in its own
    ``on_validate`` and would bypass the guard that runs before validation).
    """
    bounds = bounds or InputBounds()
    return [
        partial(_TokensLimiter, max_token_count=max_tokens),
        # Must precede the depth and alias limiters: see _DocumentGuard.
        partial(_DocumentGuard, max_selections=max_cost),
        # Introspection fields (``__schema``, ``__type``) are already exempt from the
        # depth count; graphql-core's MaxIntrospectionDepthRule bounds them instead.
        partial(QueryDepthLimiter, max_depth=max_depth),
        partial(MaxAliasesLimiter, max_alias_count=max_aliases),
        partial(_PageSizeAndCostLimiter, max_cost=max_cost, bounds=bounds),
    ]


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    bounds: InputBounds | None = None,
) -> int:
    """The cost of one operation of a validated document, GitHub style.

    Every field costs 1, plus the cost of its selections. A connection field (its
    type's name ends with ``Connection`` and it takes ``first``) multiplies the cost
    of its selections by its page size, ``first`` or DEFAULT_PAGE_SIZE, so nested
    connections multiply. A plain list field multiplies them by its bound: the
    number of ids given to ``nodes``, the values of an enum (ENUM_LISTS), else ``bounds.max_lines`` (the
    most lines a document may have; the ``edges`` of a connection are its page).
    ``__typename`` and introspection are free, and fields
    excluded by ``@skip``/``@include`` cost nothing. Selections are not merged: a
    field selected twice (directly or through fragments) is counted twice.

    Raises GraphQLError when the operation cannot be selected, the variables do not
    coerce, or an argument is out of bounds (``first``, search text, id lists).
    """
    outcome = _analyse(schema, document, variables, operation_name, bounds or InputBounds())
    if outcome.errors:
        raise outcome.errors[0]
    return outcome.cost


class _TokensLimiter(MaxTokensLimiter):
    """The token limit covers the variables too: each scalar, list and object counts as a token.

    The parser gets what the variables leave of the limit; variables alone over
    the limit are refused before the document is parsed.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        used = _variable_tokens(context.variables, self.max_token_count + 1)
        if used > self.max_token_count:
            raise GraphQLError(
                f"Variables contain more than {self.max_token_count} tokens. Parsing aborted.",
                extensions={"code": "TOO_MANY_TOKENS", "maxTokens": self.max_token_count},
            )
        context.parse_options["max_tokens"] = self.max_token_count - used
        yield


def _variable_tokens(variables: Mapping[str, Any] | None, stop: int) -> int:
    """Tokens of the variables' values as GraphQL literals (a scalar 1, a list or object
    2 plus its items, an object key 2 with its colon), counting no further than ``stop``."""
    count = 0
    stack: list[Any] = list((variables or {}).values())
    while stack and count < stop:
        current = stack.pop()
        if isinstance(current, Mapping):
            count += 2 + 2 * len(current)
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            count += 2
            stack.extend(current)
        else:
            count += 1
    return count


class _PageSizeAndCostLimiter(SchemaExtension):
    """Rejects out-of-range ``first`` arguments and costly operations."""

    def __init__(self, *, max_cost: int, bounds: InputBounds) -> None:
        self.max_cost = max_cost
        self.bounds = bounds

    def on_execute(self) -> Iterator[None]:
        # on_execute rather than a validation rule: the check needs the variables,
        # and validation has already passed here, so the document is well formed.
        errors = self._errors()
        if errors:
            context = self.execution_context
            if context.operation_type is OperationType.SUBSCRIPTION:
                # Strawberry subscribes without looking at a preset result, but turns
                # an exception from this hook into an error response.
                raise errors[0]
            # Strawberry skips execution when a result is preset (caching extensions
            # rely on it); raising instead would leave other extensions' on_execute
            # hooks un-exited.
            context.result = ExecutionResult(data=None, errors=errors)
        yield

    def _errors(self) -> list[GraphQLError]:
        context = self.execution_context
        if context.graphql_document is None:
            return []
        try:
            outcome = _analyse(
                context.schema._schema,
                context.graphql_document,
                context.variables,
                context.operation_name,
                self.bounds,
            )
        except GraphQLError:
            # An unknown operation or bad variables: execution reports those
            # itself, before any resolver runs.
            return []
        if outcome.errors:
            return outcome.errors
        if outcome.cost > self.max_cost:
            return [_too_costly(outcome.cost, self.max_cost)]
        return []


def _out_of_bounds(node: FieldNode, field_name: str, argument: str, what: str, **extensions: int) -> GraphQLError:
    # Reported like a resolver's invalid argument: code INVALID, field = the argument's path.
    return GraphQLError(
        f'{argument}: argument of "{field_name}" {what}.',
        [node],
        extensions={"code": "INVALID", "field": [argument], **extensions},
    )


def _too_costly(cost: int, max_cost: int) -> GraphQLError:
    return GraphQLError(
        f"Query cost {cost} exceeds the maximum of {max_cost}. "
        "Ask for smaller pages (first) or fewer nested connections.",
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": max_cost},
    )


@dataclass
class _Outcome:
    cost: int
    # Out-of-range page sizes; the cost means little when there are any.
    errors: list[GraphQLError]


def _analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    bounds: InputBounds,
) -> _Outcome:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise GraphQLError(f"Unknown or ambiguous operation: {operation_name!r}.")
    root = schema.get_root_type(operation.operation)
    if root is None:
        raise GraphQLError(f"The schema has no {operation.operation.value} type.")
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
    if isinstance(coerced, list):
        raise coerced[0]
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    walk = _CostWalk(schema, fragments, coerced, bounds, mutation=operation.operation.value == "mutation")
    cost = walk.selection_set(operation.selection_set, root)
    return _Outcome(cost, walk.errors)


@dataclass
class _CostWalk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: VariableValues
    bounds: InputBounds
    # Mutation arguments are documents: the domain bounds their texts and lines.
    mutation: bool = False
    errors: list[GraphQLError] = field(default_factory=list)
    # A fragment's cost does not depend on where it is spread, so each is walked
    # once: re-walking per spread would be exponential in the number of fragments.
    fragment_costs: dict[str, int] = field(default_factory=dict)

    def selection_set(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(selection.selection_set, self._condition(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        name = node.name.value
        # __typename is free; so is introspection, bounded by MaxIntrospectionDepthRule.
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        named_type = get_named_type(definition.type)
        field_name = f"{parent.name}.{name}"
        arguments = self._arguments(node, definition, field_name)
        children = self.selection_set(node.selection_set, named_type)
        field_type = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        if "first" in definition.args:
            page_size = self._page_size(node, arguments.get("first"), field_name)
            if named_type.name.endswith("Connection") or isinstance(field_type, GraphQLList):
                return 1 + page_size * children
        if isinstance(field_type, GraphQLList) and not parent.name.endswith("Connection"):
            # A plain list (``lines``, ``contacts``) costs as many items as it may hold.
            return 1 + self._list_bound(field_name, arguments) * children
        return 1 + children

    def _list_bound(self, field_name: str, arguments: Mapping[str, Any]) -> int:
        ids = arguments.get("ids")
        if field_name == "Query.nodes" and isinstance(ids, list):
            return len(ids)
        enum = self.schema.get_type(ENUM_LISTS.get(field_name, ""))
        if isinstance(enum, GraphQLEnumType):
            return len(enum.values)
        real = self.bounds.real_maximum(field_name) if self.bounds.real_maximum is not None else None
        if real is not None:
            return max(1, min(real, self.bounds.max_lines))
        return self.bounds.max_lines

    def _arguments(self, node: FieldNode, definition: GraphQLField, field_name: str) -> dict[str, Any]:
        if not definition.args:
            return {}
        try:
            arguments = get_argument_values(definition, node, self.variables)
        except GraphQLError as error:
            self.errors.append(error)
            return {}
        for name, value in arguments.items():
            self._check_argument(node, field_name, name, value, definition.args[name].type)
        return arguments

    def _check_argument(
        self, node: FieldNode, field_name: str, name: str, value: Any, type_: Any
    ) -> None:
        """Search texts (String arguments of reads) and lists of ids or enum values are bounded."""
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        bounds = self.bounds
        if isinstance(type_, GraphQLList) and isinstance(value, list) and len(value) > bounds.max_list_entries:
            if not isinstance(get_named_type(type_), GraphQLInputObjectType):
                self.errors.append(_out_of_bounds(
                    node, field_name, name,
                    f"takes at most {bounds.max_list_entries} entries, got {len(value)}",
                    maxEntries=bounds.max_list_entries, entries=len(value),
                ))
        elif (not self.mutation and getattr(type_, "name", None) == "String" and isinstance(value, str)
              and len(value) > bounds.max_search_length):
            self.errors.append(_out_of_bounds(
                node, field_name, name,
                f"takes at most {bounds.max_search_length} characters, got {len(value)}",
                maxLength=bounds.max_search_length, length=len(value),
            ))

    def _page_size(self, node: FieldNode, first: Any, field_name: str) -> int:
        if not isinstance(first, int) or isinstance(first, bool):
            return DEFAULT_PAGE_SIZE
        if not 0 <= first <= MAX_PAGE_SIZE:
            self.errors.append(
                GraphQLError(
                    f'Argument "first" of field "{field_name}" must be between 0 and '
                    f"{MAX_PAGE_SIZE}, got {first}.",
                    [node],
                    extensions={
                        "code": "PAGE_SIZE_OUT_OF_RANGE",
                        "field": field_name,
                        "first": first,
                        "maxPageSize": MAX_PAGE_SIZE,
                    },
                )
            )
            return DEFAULT_PAGE_SIZE
        return first

    def _fragment(self, name: str) -> int:
        if name in self.fragment_costs:
            return self.fragment_costs[name]
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0
        # Mark before walking, so a fragment cycle ends here instead of looping.
        self.fragment_costs[name] = 0
        parent = self.schema.get_type(fragment.type_condition.name.value)
        cost = self.selection_set(fragment.selection_set, parent) if parent else 0
        self.fragment_costs[name] = cost
        return cost

    def _condition(self, node: InlineFragmentNode, parent: GraphQLNamedType) -> GraphQLNamedType:
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value) or parent

    def _included(self, node: SelectionNode) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return include is None or include.get("if") is True


class _DocumentGuard(SchemaExtension):
    """Rejects, before validation, the documents strawberry's limiters mishandle.

    The depth and alias limiters re-walk a fragment at every spread, so a few
    hundred tokens (``fragment A on Query { ...B ...B ...B }`` and so on down a
    chain) keep them busy for hours: fragments may expand to at most
    ``max_selections`` fields. The depth limiter also crashes on an empty
    selection set (which graphql-core 3.3 parses) and on an unknown fragment: the
    client would get an internal error (masked in production) instead of a reason.
    """

    def __init__(self, *, max_selections: int) -> None:
        self.max_selections = max_selections

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            error = _document_error(document, self.max_selections)
            if error is not None:
                # Preset errors make strawberry skip validation, and with it the
                # limiters that would stall or crash on this document.
                context.pre_execution_errors = [error]
        yield


@dataclass
class _Scan:
    """One definition's selections, with fragment spreads left unexpanded."""

    fields: int = 0
    spreads: list[FragmentSpreadNode] = field(default_factory=list)
    empty: SelectionSetNode | None = None


def _scan(selection_set: SelectionSetNode) -> _Scan:
    # A stack rather than recursion: this runs on unvalidated documents.
    scan = _Scan()
    stack = [selection_set]
    while stack:
        current = stack.pop()
        if not current.selections:
            scan.empty = current
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                scan.spreads.append(selection)
                continue
            if isinstance(selection, FieldNode):
                scan.fields += 1
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)
    return scan


def _document_error(document: DocumentNode, max_selections: int) -> GraphQLError | None:
    fragments = {
        definition.name.value: _scan(definition.selection_set)
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations = [
        _scan(definition.selection_set)
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    for scan in [*fragments.values(), *operations]:
        if scan.empty is not None:
            return GraphQLError("Selection sets must not be empty.", [scan.empty])
        for spread in scan.spreads:
            if spread.name.value not in fragments:
                return GraphQLError(f"Unknown fragment '{spread.name.value}'.", [spread])
    sizes = _expanded_sizes(fragments)
    selections = sum(
        scan.fields + sum(sizes[spread.name.value] for spread in scan.spreads) for scan in operations
    )
    if selections <= max_selections:
        return None
    return GraphQLError(
        f"Query too complex: its fragments expand to {selections} fields, "
        f"more than the maximum of {max_selections}.",
        extensions={"code": "QUERY_TOO_COMPLEX", "selections": selections, "maxSelections": max_selections},
    )


def _expanded_sizes(fragments: Mapping[str, _Scan]) -> dict[str, int]:
    """Fields per fragment with its spreads inlined; a cycle is cut where it closes."""
    sizes: dict[str, int] = {}
    for root in fragments:
        if root in sizes:
            continue
        path = [(root, iter(fragments[root].spreads))]
        on_path = {root}
        while path:
            name, spreads = path[-1]
            for spread in spreads:
                child = spread.name.value
                if child not in sizes and child not in on_path:
                    path.append((child, iter(fragments[child].spreads)))
                    on_path.add(child)
                    break
            else:
                path.pop()
                on_path.discard(name)
                scan = fragments[name]
                sizes[name] = scan.fields + sum(sizes.get(s.name.value, 0) for s in scan.spreads)
    return sizes
