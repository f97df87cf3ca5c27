"""Nothing imports backwards: each package may import only the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kgcds.settings import PROJECT_ROOT

# package -> project packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "ontology": set(),
    "graph_loader": {"ontology", "graph_store"},
    "graph_store": {"ontology", "graph_loader"},
    "knowledge_index": {"ontology", "graph_loader", "graph_store"},
    "rules": {"ontology", "graph_loader", "graph_store", "knowledge_index"},
    "ddx_ranker": {"ontology", "graph_loader", "graph_store", "knowledge_index"},
    "cds_api": {"ontology", "graph_loader", "graph_store", "knowledge_index", "rules", "ddx_ranker"},
    "evaluation": {
        "ontology",
        "graph_loader",
        "graph_store",
        "knowledge_index",
        "rules",
        "ddx_ranker",
        "cds_api",
        "kgcds",
    },
    "kgcds": {
        "ontology",
        "graph_loader",
        "graph_store",
        "knowledge_index",
        "rules",
        "ddx_ranker",
        "cds_api",
        "evaluation",
    },
}
# graph_loader -> graph_store is only for the store contract the pipeline writes to;
# graph_store -> graph_loader only for the row types it receives.
NARROW: dict[tuple[str, str], set[str]] = {
    ("graph_loader", "graph_store"): {"graph_store.contract"},
    ("graph_store", "graph_loader"): {"graph_loader.rows"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_lower_layers(package: str) -> None:
    problems = []
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        for module in _imports(path):
            top = module.split(".")[0]
            if top == package or top not in ALLOWED:
                continue
            narrow = NARROW.get((package, top))
            if top not in ALLOWED[package] or (narrow is not None and module not in narrow):
                problems.append(f"{path.relative_to(PROJECT_ROOT)} imports {module}")
    assert problems == []


def test_rules_never_import_litestar() -> None:
    for path in (PROJECT_ROOT / "rules").rglob("*.py"):
        assert not any(m.split(".")[0] == "litestar" for m in _imports(path)), path
