"""Loaders sit below the GraphQL types: no import circle through the request context."""

from __future__ import annotations

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "src" / "api"


def api_imports(path: Path) -> set[str]:
    """Every ``api.*`` module ``path`` imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "api":
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "api"}
    return found


def test_context_loaders_import_only_the_factories() -> None:
    modules = sorted(API.glob("*/loaders.py"))
    assert len(modules) >= 8
    for path in modules:
        assert api_imports(path) <= {"api.dataloaders"}, path
    assert api_imports(API / "dataloaders.py") == set()


def test_the_registry_and_the_context_stay_below_the_types() -> None:
    contexts = {f"api.{path.parent.name}.loaders" for path in API.glob("*/loaders.py")}
    assert api_imports(API / "loaders.py") == contexts
    assert api_imports(API / "context.py") == {"api.loaders"}
