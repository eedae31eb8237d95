"""The catalog package is a one-way stack: no module imports one above it, and none imports a
later pipeline stage. Imports inside functions and under TYPE_CHECKING count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import planner.catalog

PACKAGE = Path(planner.catalog.__file__).parent
# Bottom to top; a module may import its own layer and the ones below (the cycle test covers
# imports within a layer).
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "columns",
        "formats",
        "row_rules",
        "provenance",
        "urls",
        "bundled",
        "archive",
        "cache",
        "transfer",
        "gpus",
        "locations",
    ),
    ("offer_table",),
    (
        "loaders",
        "loaders.csvread",
        "loaders.fields",
        "loaders.json_objects",
        "loaders.detect",
        "loaders.part",
        "loaders.frame",
        "loaders.gpuhunt",
        "loaders.skypilot",
        "loaders.local",
    ),
    ("assembly",),
    ("download", "prebuilt", "export", "describe", "live"),
    ("sources",),
    ("table",),
    ("",),  # the package itself: its lazy exports name the modules below
)
LATER_STAGES = (
    "planner.requirements",
    "planner.match",
    "planner.plan",
    "planner.placement",
    "planner.simulate",
    "planner.render",
    "planner.cli",
)


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


MODULES = _module_names()


def _imported(name: str, path: Path) -> set[str]:
    """Every absolute module name ``path`` imports anywhere (or names as a lazy export)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = f"planner.catalog.{name}".rstrip(".").split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("planner.")
        ):
            found.add(node.value)
    return found


def _catalog_module(imported: str) -> str | None:
    """The planner.catalog module ``imported`` is (or is inside), as a key of MODULES."""
    if imported != "planner.catalog" and not imported.startswith("planner.catalog."):
        return None
    name = imported.removeprefix("planner.catalog").removeprefix(".")
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


GRAPH = {
    name: {
        target
        for imported in _imported(name, path)
        if (target := _catalog_module(imported)) is not None and target != name
    }
    for name, path in MODULES.items()
}


def test_every_module_has_a_layer() -> None:
    layered = [name for layer in LAYERS for name in layer]
    assert sorted(layered) == sorted(MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_imports_only_its_layer_and_below(name: str) -> None:
    level = {module: index for index, layer in enumerate(LAYERS) for module in layer}
    upward = sorted(target for target in GRAPH[name] if level[target] > level[name])
    assert upward == [], f"planner.catalog.{name} imports from above it"


def test_there_is_no_import_cycle() -> None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, " -> ".join([*visiting[visiting.index(name) :], name])
        visiting.append(name)
        for target in sorted(GRAPH[name]):
            visit(target)
        visiting.pop()
        done.add(name)

    for name in sorted(GRAPH):
        visit(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_a_later_stage(name: str) -> None:
    imported = _imported(name, MODULES[name])
    later = sorted(
        module
        for module in imported
        if any(module == stage or module.startswith(f"{stage}.") for stage in LATER_STAGES)
    )
    assert later == []


def test_the_checker_sees_imports_inside_functions() -> None:
    # table.py resolves sources lazily (start-up time): the graph must still see it.
    assert "sources" in GRAPH["table"]
