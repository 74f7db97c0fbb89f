"""Valid documents are validated once; invalid ones every time; limits still apply."""

from __future__ import annotations

import strawberry
import strawberry.schema.schema as strawberry_schema

from api.document_cache import ValidDocuments, document_cache_extensions
from api.limits import limit_extensions


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, first: int | None = None) -> str:
        return "hi"


def make_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=[
        *document_cache_extensions(), *limit_extensions(max_depth=5, max_aliases=2, max_tokens=100, max_cost=100),
    ])


async def test_valid_documents_skip_validation(monkeypatch) -> None:
    calls: list[str] = []
    real = strawberry_schema.validate_document

    def counting(schema, document, rules):  # type: ignore[no-untyped-def]
        calls.append("validate")
        return real(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    schema = make_schema()
    for _ in range(3):
        assert (await schema.execute("{ hello }")).data == {"hello": "hi"}
    assert calls == ["validate"]
    for _ in range(2):
        result = await schema.execute("{ nope }")
        assert result.errors and "nope" in result.errors[0].message
    assert len(calls) == 3  # failures are not remembered
    # variable-dependent limits still run on a cached document
    query = "query($n: Int) { hello(first: $n) }"
    assert (await schema.execute(query, variable_values={"n": 5})).errors is None
    rejected = await schema.execute(query, variable_values={"n": 500})
    assert rejected.errors and "first" in rejected.errors[0].message
    # alias limit (a validation rule) holds for new texts
    assert (await schema.execute("{ a: hello b: hello c: hello }")).errors


def test_lru_bound() -> None:
    valid = ValidDocuments(size=2)
    valid.add("a")
    valid.add("b")
    assert "a" in valid  # refreshes a
    valid.add("c")
    assert "b" not in valid and "a" in valid and "c" in valid
