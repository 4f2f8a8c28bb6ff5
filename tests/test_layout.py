"""The package layout cannot rot: imports point one way, no cycles, small modules.

Imports are read from the source (every `import` and `from … import`, including those inside
functions and `TYPE_CHECKING` blocks, and `importlib.import_module("slaengine…")`), so a
cycle hidden behind a lazy import still counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "slaengine"

# The wings in the order the data flows; a module may import its own wing and earlier ones.
# `files` (safe reading and writing at the edges) is below every wing.
# `api` (the `Agreement` facade) sits after kpis, because `Agreement.kpis` computes them;
# sql comes after kpis because the SQL compiler compiles the same KPI measures.
WINGS = ["files", "agreement", "evaluate", "kpis", "api", "sql", "reports", "change", "site", "cli"]
TOP_LEVEL_ALLOWED = {"__init__", "__main__"}
MAX_TOP_LEVEL_MODULES = 3
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + (module.split(".") if module else []))


def imports_of(name: str) -> Iterator[str]:
    """Every slaengine module the module `name` imports (the module, not its parents)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "slaengine":
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            target = (_resolve(name, is_package, node.level, node.module) if node.level
                      else node.module or "")
            if target.split(".")[0] != "slaengine":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield sub if sub in MODULES else target
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant)
              and str(node.args[0].value).startswith("slaengine")):
            yield str(node.args[0].value)


GRAPH = {name: sorted(set(imports_of(name)) - {name}) for name in MODULES}


def wing(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_import_names_a_module_that_exists() -> None:
    missing = {(name, target) for name, targets in GRAPH.items() for target in targets
               if target not in MODULES}
    assert not missing


def test_nothing_outside_the_cli_imports_the_cli() -> None:
    offenders = [(name, target) for name, targets in GRAPH.items()
                 if wing(name) not in {"cli", "__main__"}
                 for target in targets if wing(target) == "cli"]
    assert not offenders


def test_wings_import_only_themselves_and_earlier_wings() -> None:
    offenders = []
    for name, targets in GRAPH.items():
        own = wing(name)
        if own is None or own in TOP_LEVEL_ALLOWED:
            continue
        for target in targets:
            other = wing(target)
            if other is None or other == own:
                continue
            if WINGS.index(other) > WINGS.index(own):
                offenders.append(f"{name} imports {target}")
    assert not offenders


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH.get(node, []):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    GRAPH["slaengine.api"].append("slaengine.cli")
    try:
        assert any("slaengine.api" in c and "slaengine.cli" in c for c in _cycles())
    finally:
        GRAPH["slaengine.api"].remove("slaengine.cli")


def test_few_modules_at_the_top() -> None:
    top = [p.stem for p in PACKAGE.glob("*.py") if p.stem not in TOP_LEVEL_ALLOWED]
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


@pytest.mark.parametrize("name", sorted(n for n, p in MODULES.items() if p.name == "__init__.py"))
def test_every_package_says_what_it_is_for(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring and len(docstring.split()) >= 5, name


def test_modules_stay_readable_in_one_sitting() -> None:
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long
