"""app/triage takes plain values: it never reads Settings or knows the knowledge base."""

from __future__ import annotations

import ast
from pathlib import Path

TRIAGE = Path(__file__).resolve().parents[3] / "app" / "triage"
FORBIDDEN = ("app.settings", "app.knowledge", "app.services", "app.api")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_triage_module_imports_the_composition_root() -> None:
    offending = {
        f"{path.relative_to(TRIAGE)}: {name}"
        for path in TRIAGE.rglob("*.py")
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert not offending


def test_the_llm_package_holds_only_the_transport() -> None:
    modules = {p.stem for p in (TRIAGE / "llm").glob("*.py")}
    assert modules == {"__init__", "client", "config", "structured", "token_count"}
