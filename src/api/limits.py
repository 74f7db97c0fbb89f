"""Query limits checked before anything executes: tokens, depth, aliases, page size, cost."""

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
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLNamedType,
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


def limit_extensions(
    *, max_depth: int, max_aliases: int, max_tokens: int, max_cost: int
) -> list[Callable[[], SchemaExtension]]:
    """Extension factories for ``strawberry.Schema(extensions=...)``, in the order given.

    Tokens are limited while parsing; fragment fan-out, depth and aliases during
    validation; page sizes (``first`` in ``[0, MAX_PAGE_SIZE]``) and the query cost
    (see ``query_cost``) after validation, before any resolver runs. Every
    rejection is a plain GraphQL error and the response is ``data: null``.

    Keep these ahead of ``ValidationCache`` (which validates in its own
    ``on_validate`` and would bypass the guard that runs before validation).
    """
    return [
        partial(MaxTokensLimiter, max_token_count=max_tokens),
        # Must precede the depth and alias limiters: see _DocumentGuard.
        partial(_DocumentGuard, max_selections=max_cost),
        # Introspection fields (``__schema``, ``__type``) are already exempt from the
        # depth count; graphql-core's MaxIntrospectionDepthRule bounds them instead.
        partial(QueryDepthLimiter, max_depth=max_depth),
        partial(MaxAliasesLimiter, max_alias_count=max_aliases),
        partial(_PageSizeAndCostLimiter, max_cost=max_cost),
    ]


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The cost of one operation of a validated document, GitHub style.

    Every field costs 1, plus the cost of its selections. A connection field (its
    type's name ends with ``Connection`` and it takes ``first``) multiplies the cost
    of its selections by its page size, ``first`` or DEFAULT_PAGE_SIZE, so nested
    connections multiply. ``__typename`` and introspection are free, and fields
    excluded by ``@skip``/``@include`` cost nothing. Selections are not merged: a
    field selected twice (directly or through fragments) is counted twice.

    Raises GraphQLError when the operation cannot be selected, the variables do not
    coerce, or a ``first`` argument is out of range.
    """
    outcome = _analyse(schema, document, variables, operation_name)
    if outcome.errors:
        raise outcome.errors[0]
    return outcome.cost


class _PageSizeAndCostLimiter(SchemaExtension):
    """Rejects out-of-range ``first`` arguments and costly operations."""

    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost

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
    walk = _CostWalk(schema, fragments, coerced)
    cost = walk.selection_set(operation.selection_set, root)
    return _Outcome(cost, walk.errors)


@dataclass
class _CostWalk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: VariableValues
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
        children = self.selection_set(node.selection_set, named_type)
        if "first" in definition.args:
            page_size = self._page_size(node, definition, f"{parent.name}.{name}")
            if named_type.name.endswith("Connection"):
                return 1 + page_size * children
        # Plain lists (e.g. ``bom { lines }``) count their items once: their
        # length is bounded by the data, not chosen by the client.
        return 1 + children

    def _page_size(self, node: FieldNode, definition: GraphQLField, field_name: str) -> int:
        try:
            first = get_argument_values(definition, node, self.variables).get("first")
        except GraphQLError as error:
            self.errors.append(error)
            return DEFAULT_PAGE_SIZE
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
