"""The import graph of the project's source (lstm_core, ui, pages, app.py): no cycle anywhere;
lstm_core never imports streamlit or ui (it works in a notebook); no source module over 400 lines.

Imports inside functions count too: an import deferred into a function to dodge a cycle is still
a cycle in the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("lstm_core", "ui", "pages")
MAX_MODULE_LINES = 400


def _source_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's source."""
    modules = {"app": ROOT / "app.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


MODULES = _source_files()


def _imported_names(name: str, path: Path) -> set[str]:
    """Every dotted name `name` imports (absolute; `from a import b` gives a and a.b)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _project_edges() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name that is no module counts as its module)."""
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = set()
        for imported in _imported_names(name, path):
            while imported and imported not in MODULES:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        edges[name] = targets
    return edges


def _a_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _a_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_relative_imports_resolve_to_the_modules_they_name(tmp_path: Path) -> None:
    module = tmp_path / "jobs.py"
    module.write_text("from .cache import ByteLRU\nfrom ..model import config\n")
    names = _imported_names("lstm_core.serving.jobs", module)
    assert {"lstm_core.serving.cache", "lstm_core.model.config"} <= names


def test_no_import_cycle_in_the_project() -> None:
    edges = _project_edges()
    assert edges["app"], "the graph holds app.py's imports"
    cycle = _a_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_lstm_core_never_imports_streamlit_or_ui() -> None:
    offenders = sorted(
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if name.split(".")[0] == "lstm_core"
        for imported in _imported_names(name, path)
        if imported.split(".")[0] in ("streamlit", "ui", "pages", "app")
    )
    assert not offenders, offenders


def test_no_source_module_is_over_the_line_budget() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in MODULES.values()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, too_long
