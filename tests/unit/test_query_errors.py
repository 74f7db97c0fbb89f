"""``api.errors.graphql_errors``: one GraphQL error per problem, mapped once."""

from __future__ import annotations

from graphql import GraphQLError

from api.errors import graphql_errors
from domain.shared.errors import DomainError, ErrorCode, Problem


def test_each_problem_is_one_error_with_code_and_field() -> None:
    domain = DomainError([Problem(ErrorCode.INVALID, "is not a valid id", ("lines", "0", "itemId")),
                          Problem(ErrorCode.NOT_FOUND, "order not found")])
    raised = GraphQLError(str(domain), path=["node", "lines"], original_error=domain)
    errors = graphql_errors(raised)
    assert [(e.message, e.extensions, e.path) for e in errors] == [
        ("lines.0.itemId: is not a valid id", {"code": "INVALID", "field": ["lines", "0", "itemId"]},
         ["node", "lines"]),
        ("order not found", {"code": "NOT_FOUND", "field": []}, ["node", "lines"]),
    ]
    assert all(e.original_error is domain for e in errors)
    assert [graphql_errors(e) for e in errors] == [[e] for e in errors]  # mapping twice changes nothing


def test_other_errors_pass_unchanged() -> None:
    plain = GraphQLError("Cannot query field 'x'.")
    unexpected = GraphQLError("boom", original_error=RuntimeError("boom"))
    assert graphql_errors(plain) == [plain] and graphql_errors(unexpected) == [unexpected]
