"""Which operation of a document runs: the named one, or the only one (the GraphQL spec).

Strawberry runs the first operation of a document with several when the request names
none; the spec calls that a request error ("GetOperation", step 2), and so do we.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from domain.shared.errors import ErrorCode


class OneOperation(SchemaExtension):
    """Refuses, before execution, a document with several operations and no operationName.

    A per-request check (not a validation rule): the document cache remembers a text
    that validated, whichever operation name came with it.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # ExecutionContext.operation_name falls back to the first operation's name.
        provided = getattr(context, "_provided_operation_name", None)
        if context.result is None and document is not None and provided is None:
            operations = sum(isinstance(each, OperationDefinitionNode) for each in document.definitions)
            if operations > 1:
                error = GraphQLError(
                    f"The document has {operations} operations: name the one to run in operationName.",
                    extensions={"code": ErrorCode.INVALID.value, "field": ["operationName"]},
                )
                if context.operation_type is OperationType.SUBSCRIPTION:
                    raise error
                context.result = ExecutionResult(data=None, errors=[error])
        yield
