"""The layer's import graph: folders name roles and imports only go down (api -> services -> dal ->
domain / models), with no cycles. Read from the source with ``ast``, nothing imported."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "learning" / "swarm_learning"
# A role may import its own rank or lower; domain and models are the ground floor.
RANKS = {"domain": 1, "models": 1, "dal": 2, "services": 3, "api": 4}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
                if base.startswith("swarm_learning"):
                    for alias in node.names:
                        target = f"{base}.{alias.name}"
                        graph[name].add(target if target in modules else base)
            elif isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name.startswith("swarm_learning")}
    return graph


def _role(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in RANKS else None


def test_imports_only_go_down_the_roles() -> None:
    graph = _imports(_modules())
    upward = [
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if (a := _role(source)) and (b := _role(target)) and RANKS[b] > RANKS[a]
    ]
    assert upward == []


def test_the_import_graph_has_no_cycles() -> None:
    modules = _modules()
    graph = _imports(modules)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if target not in modules:
                continue
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, path)
        path.pop()
        state[module] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module, [])
    assert cycles == []


def test_the_roles_are_folders() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert set(RANKS) <= folders
