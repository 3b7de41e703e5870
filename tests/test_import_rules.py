"""The rooms' import rules hold, and no module imports itself back through others.

Every import counts, including those inside functions: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROOMS = ("arena", "generators", "metrics", "leaderboards")
# Which other rooms each room may import (DESIGN.md: dependencies point one way).
ALLOWED = {
    "arena": {"generators", "metrics", "leaderboards"},
    "metrics": {"generators", "leaderboards"},
    "generators": set(),
    "leaderboards": set(),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path for room in ROOMS for path in sorted((REPO / room).rglob("*.py"))
    }


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules a file imports (a `from X import y` counts X.y when that is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(path, name, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walker_sees_cycles_and_crossings():
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "b.q": set()}
    assert cycles(graph) == [["a.x", "a.y", "a.z"]]
    here = Path(__file__)
    known = {"arena.store", "generators.errors", "leaderboards.counts"}
    assert imports_of(here, "tests.x", known) == set()  # this file imports no project module


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("room", ROOMS)
def test_rooms_import_only_what_they_may(room: str):
    bad = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        if name.split(".")[0] == room
        for target in targets
        if target.split(".")[0] != room and target.split(".")[0] not in ALLOWED[room]
    )
    assert not bad, "\n".join(bad)


def test_sql_lives_only_in_the_store():
    sql = ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", "CREATE TABLE")
    offenders = [
        name
        for name, path in project_modules().items()
        if name.startswith("arena.")
        and not name.startswith("arena.store")
        and any(f'"{word}' in path.read_text() or f'"""{word}' in path.read_text() for word in sql)
    ]
    assert not offenders, f"SQL outside arena/store/: {offenders}"


# Inside arena/ the rooms depend downwards: a room imports only rooms listed before it.
ARENA_ORDER = ("errors", "store", "domain", "io", "jobs", "web", "cli")


def test_arena_rooms_depend_downwards():
    def rank(module: str) -> int | None:
        parts = module.split(".")
        if parts[0] != "arena" or len(parts) < 2:
            return None
        return ARENA_ORDER.index(parts[1]) if parts[1] in ARENA_ORDER else None

    bad = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        if rank(name) is not None
        for target in targets
        if rank(target) is not None and rank(target) > rank(name)
    )
    assert not bad, "\n".join(bad)
