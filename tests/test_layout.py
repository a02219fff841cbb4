"""The package layout: no import loops, no module reaching into another's ``_names``, no
module over 600 lines (reducer/README.md draws the pipeline these modules make up).

Imports are read with ``ast``, function-level ones included: a loop hidden inside a function
is still a loop between two stages.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("reducer", "mod_export")
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]):
    """(imported module, imported name or None) for every import in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in modules:  # `from reducer import train`: the submodule itself
                    yield sub, None
                elif base in modules:
                    yield base, alias.name


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (a package's __init__ counts as the package)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        graph[name] = {target for target, _ in _imports(name, path, modules)} - {name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm).

    A package's ``__init__`` importing its own submodules, which import each other by their
    full names, is no loop between stages: edges from a package to its own submodules are
    left out.
    """
    edges = {a: {b for b in bs if not b.startswith(a + ".")} for a, bs in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def private_imports() -> list[str]:
    """``module imports other._name`` for every underscore name taken from another module."""
    modules = _modules()
    found = []
    for name, path in modules.items():
        for target, imported in _imports(name, path, modules):
            if imported and imported.startswith("_") and not imported.startswith("__") \
                    and target != name:
                found.append(f"{name} imports {target}.{imported}")
    return found


def test_cycle_finder_finds_a_loop():
    # the checker itself: a made-up graph with one loop of three and one without
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "p": {"p.x"}, "p.x": {"p"}}
    assert import_cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert import_cycles(import_graph()) == []


def test_no_module_imports_another_modules_private_names():
    assert private_imports() == []


def test_no_module_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules().values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
