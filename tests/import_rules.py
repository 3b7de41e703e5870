"""The rooms' import rules, checked on the syntax tree of any copy of the project's four rooms.

`rule_violations(root)` returns one line per broken rule. Every import counts, including those
inside functions (a lazy import is still a dependency) and `importlib.import_module` targets
(a string naming a project module in a module that imports by name is a dependency too).
SQL is found by what runs it, not by the look of its strings: only `arena/store/` imports DuckDB
or calls `execute`, `sql` or the store's query helpers.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOMS = ("arena", "generators", "metrics", "leaderboards")
# Which other rooms each room may import (DESIGN.md: dependencies point one way).
ALLOWED = {
    "arena": {"generators", "metrics", "leaderboards"},
    "metrics": {"generators", "leaderboards"},
    "generators": set(),
    "leaderboards": set(),
}
# Inside arena/ the rooms depend downwards: a room imports only rooms listed before it.
# `errors` is the module arena/errors.py, below them all; the package itself ranks lowest.
ARENA_ORDER = ("errors", "store", "domain", "io", "jobs", "web", "cli")
# Calls that run SQL: a DuckDB connection's and the store's own helpers that take a query.
SQL_CALLS = frozenset({"execute", "executemany", "sql", "_query", "_frame", "_write_one"})
SQL_MODULES = frozenset({"duckdb"})
STORE = "arena.store"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path) -> dict[str, Path]:
    return {
        module_name(path, root): path
        for room in ROOMS
        for path in sorted((root / room).rglob("*.py"))
    }


def _imports_by_name(tree: ast.AST) -> bool:
    """Whether a module calls `importlib.import_module`, `import_module` or `__import__`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "import_module":
                return True
            if isinstance(func, ast.Name) and func.id in ("import_module", "__import__"):
                return True
    return False


def _dynamic_targets(tree: ast.AST, known: set[str]) -> set[str]:
    """Modules a module that imports by name may load: every string that names a module.

    A literal argument counts whatever it names (`import_module("duckdb")`); a string elsewhere
    (a table of kinds, a tuple of command modules) counts when it names a project module, alone
    or after the constant head of an f-string (`f"arena.cli.{name}"` with `"backup_cmd"`).
    """
    strings: set[str] = set()
    heads: set[str] = set()
    literal_args: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.add(node.value)
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                heads.add(first.value)
        elif isinstance(node, ast.Call) and node.args:
            arg = node.args[0]
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and isinstance(arg, ast.Constant):
                literal_args.add(str(arg.value))
    found = {s for s in strings if s in known} | literal_args
    found |= {head + s for head in heads for s in strings if head + s in known}
    return found


def parse_modules(root: Path) -> dict[str, tuple[Path, ast.Module]]:
    """Each project module's path and syntax tree, parsed once."""
    return {
        name: (path, ast.parse(path.read_text(), str(path)))
        for name, path in project_modules(root).items()
    }


def raw_imports(path: Path, tree: ast.Module, name: str, known: set[str]) -> set[str]:
    """Dotted names a file imports, project or not (`from X import y` gives X and X.y)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    if _imports_by_name(tree):
        found |= _dynamic_targets(tree, known)
    return found


def imports_of(path: Path, tree: ast.Module, name: str, known: set[str]) -> set[str]:
    """Project modules a file imports (the longest known module each imported name lies in)."""
    found: set[str] = set()
    for target in raw_imports(path, tree, name, known):
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


def import_graph(modules: dict[str, tuple[Path, ast.Module]]) -> dict[str, set[str]]:
    known = set(modules)
    return {name: imports_of(path, tree, name, known) for name, (path, tree) in modules.items()}


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


def arena_room(module: str) -> str | None:
    """The room inside arena/ a module lies in ('' for the package itself), None outside arena."""
    parts = module.split(".")
    if parts[0] != "arena":
        return None
    return parts[1] if len(parts) > 1 else ""


def cycle_violations(graph: dict[str, set[str]]) -> list[str]:
    return ["import cycle: " + " <-> ".join(component) for component in cycles(graph)]


def room_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports across the top rooms that the room table forbids."""
    return sorted(
        f"{name} imports {target} ({name.split('.')[0]} may not import {target.split('.')[0]})"
        for name, targets in graph.items()
        for target in targets
        if target.split(".")[0] != name.split(".")[0]
        and target.split(".")[0] not in ALLOWED[name.split(".")[0]]
    )


def arena_order_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports upwards inside arena/, and modules in a room the order does not name."""

    def rank(module: str) -> int:
        room = arena_room(module)
        return -1 if room == "" else ARENA_ORDER.index(room)

    unknown = sorted(
        f"{name} lies in arena/{arena_room(name)}, a room not in the order {ARENA_ORDER}"
        for name in graph
        if arena_room(name) and arena_room(name) not in ARENA_ORDER
    )
    if unknown:
        return unknown
    return sorted(
        f"{name} imports {target} (arena/{arena_room(target)} is above arena/{arena_room(name)})"
        for name, targets in graph.items()
        if arena_room(name) is not None
        for target in targets
        if arena_room(target) is not None and rank(target) > rank(name)
    )


def sql_violations(modules: dict[str, tuple[Path, ast.Module]]) -> list[str]:
    """DuckDB imported or SQL run anywhere but arena/store/."""
    known = set(modules)
    bad: list[str] = []
    for name, (path, tree) in modules.items():
        if name == STORE or name.startswith(STORE + "."):
            continue
        for target in sorted(raw_imports(path, tree, name, known)):
            if target.split(".")[0] in SQL_MODULES:
                bad.append(f"{name} imports {target} (only arena/store/ uses DuckDB)")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS
            ):
                bad.append(
                    f"{name}:{node.lineno} calls .{node.func.attr}() "
                    "(SQL runs only in arena/store/)"
                )
    return bad


def rule_violations(root: Path) -> list[str]:
    """Every broken rule in the rooms under root, one line each (empty when all hold)."""
    modules = parse_modules(root)
    graph = import_graph(modules)
    return [
        *cycle_violations(graph),
        *room_violations(graph),
        *arena_order_violations(graph),
        *sql_violations(modules),
    ]
