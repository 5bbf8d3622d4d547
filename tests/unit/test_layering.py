"""The layer's import graph: folders name roles and imports only go down (api -> services -> dal ->
domain / models), with no cycles; and services are composed, not stacked by inheritance. Read from
the source with ``ast``, nothing imported."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "learning" / "swarm_learning"
# A role may import its own rank or lower; domain and models are the ground floor.
RANKS = {"domain": 1, "models": 1, "dal": 2, "services": 3, "api": 4}
# Classes that may extend one another anywhere: data (pydantic models, enums) and errors.
VALUE_ROOTS = {"BaseModel", "StrEnum", "Enum", "Exception", "Protocol"}
VALUE_MODULES = ("swarm_learning.models.", "swarm_learning.errors.")


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


def _classes_under(folder: str) -> dict[str, list[str]]:
    """Every class defined under ``swarm_learning.<folder>`` (``module.Class``) -> its bases, each
    resolved to ``module.Class`` when it is defined in the package, else left as written."""
    modules = {name: path for name, path in _modules().items() if name.split(".")[1:2] == [folder]}
    classes: dict[str, list[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text())
        imported: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
                imported |= {alias.asname or alias.name: f"{base}.{alias.name}" for alias in node.names}
        local = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes[f"{name}.{node.name}"] = [
                    f"{name}.{base.id}"
                    if isinstance(base, ast.Name) and base.id in local
                    else imported.get(base.id, base.id)
                    if isinstance(base, ast.Name)
                    else ast.unparse(base)
                    for base in node.bases
                ]
    return classes


def test_no_service_inherits_from_another_service() -> None:
    """A service is given what it uses (stores, settings, clock, other services), so a behaviour
    lives in one class. Data classes and errors may extend one another."""
    classes = _classes_under("services")

    def is_value(qualified: str) -> bool:
        if qualified not in classes:  # defined elsewhere: models and errors are values
            return qualified.startswith(VALUE_MODULES) or qualified.rsplit(".", 1)[-1] in VALUE_ROOTS
        return any(is_value(base) for base in classes[qualified])

    stacked = [
        (name, base)
        for name, bases in classes.items()
        for base in bases
        if base in classes and not (is_value(name) and is_value(base))
    ]
    assert stacked == []
    assert classes  # the walk found the services


def test_services_are_grouped_by_feature() -> None:
    services = PACKAGE / "services"
    features = {p.name for p in services.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert {"tracking", "trust", "learning", "keys", "retention"} <= features
    assert [p.name for p in services.glob("*.py")] == ["__init__.py"]
