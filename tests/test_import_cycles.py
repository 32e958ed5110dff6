"""No import cycle inside netmodel/: the stages import only earlier stages, and modules within a stage form a
tree (docs/architecture.md).

The import graph is read statically with ``ast`` from every module under netmodel/. Every ``import`` counts —
at module level, inside functions and under ``if TYPE_CHECKING:`` — because a function-level import that
closes a cycle is a cycle deferred to run time, and a type-only one still ties the two modules' meanings
together. An edge goes to the module named: ``from netmodel.a import b`` is an edge to ``netmodel.a.b`` when
that is a module, else to ``netmodel.a``. Importing ``netmodel.a.b`` also runs the package ``netmodel/a/__init__.py``,
but that is not counted as an edge: a package ``__init__`` that re-exports its submodules would otherwise make
every import between two siblings look like a cycle, and an import of the package itself (``from netmodel.a
import name``) is counted as an edge to it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "netmodel"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module → the netmodel modules it imports anywhere in its text."""
    files = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from .x import y / from .. import y
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.add(submodule if submodule in files else source)
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a closed path of modules) per strongly connected group of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_closed_path(graph, set(group)) for group in groups]


def _closed_path(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A path start → … → start inside one strongly connected group (breadth-first, so a shortest one)."""
    start = min(group)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & group):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if w not in parents:
                    parents[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError("a strongly connected group always holds a cycle")


# Cycles known and not yet broken, each with why (none today: keep it that way).
KNOWN: set[frozenset[str]] = set()


def test_netmodel_has_no_import_cycle() -> None:
    found = [c for c in cycles(import_graph()) if frozenset(c) not in KNOWN]
    assert not found, "import cycles in netmodel/ (each line one cycle):\n" + "\n".join(
        " → ".join(c) for c in found)


def test_the_cycle_finder_finds_cycles(tmp_path: Path) -> None:
    """The check can fail: a function-level import and a TYPE_CHECKING import each close a cycle."""
    package = tmp_path / "netmodel"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from netmodel.sub.a import f\n")
    (package / "sub" / "a.py").write_text("from netmodel.sub import b\n\ndef f():\n    return b\n")
    (package / "sub" / "b.py").write_text("def g():\n    from netmodel.sub.c import h\n    return h\n")
    (package / "sub" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                          "    from .a import f\n")
    (package / "d.py").write_text("from netmodel.sub.a import f\n")
    graph = import_graph(package)
    assert graph["netmodel.sub.a"] == {"netmodel.sub.b"}
    assert graph["netmodel.sub.c"] == {"netmodel.sub.a"}
    assert cycles(graph) == [["netmodel.sub.a", "netmodel.sub.b", "netmodel.sub.c", "netmodel.sub.a"]]
    (package / "sub" / "c.py").write_text("h = 1\n")
    assert cycles(import_graph(package)) == []
