"""The pipeline's layering holds: no import cycle among planner's modules, counting imports inside
functions and type-checking-only imports, and each layer imports only the layers below it.

import-linter checks the layer contract in `.ci/run` too (pyproject.toml, `[tool.importlinter]`);
this test also runs in the plain test command and reports the cycle itself when one appears.
"""

from __future__ import annotations

import ast
from pathlib import Path

import planner

PACKAGE_DIR = Path(planner.__file__).resolve().parent

# Highest first: a module may import from its own layer's package and from any layer after it.
# The same list as the import-linter contract in pyproject.toml; "(name)" marks a layer that may be
# absent.
LAYERS = (
    "planner.cli",
    "planner.render",
    "planner.apply",
    "planner.simulate",
    "planner.placement",
    "planner.backends",
    "planner.match",
    "planner.requirements",
    "planner.catalog",
    "planner.config",
    "planner.errors",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every planner module that ``name`` imports anywhere in its body (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a.b import c` depends on the module a.b.c when there is one, else on a.b.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        found.update(target for target in targets if target in known and target != name)
    return found


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _layer(module: str) -> int | None:
    for rank, layer in enumerate(layer.strip("()") for layer in LAYERS):
        if module == layer or module.startswith(layer + "."):
            return rank
    return None


def test_no_import_cycle_counting_function_level_imports() -> None:
    graph = _graph()
    # The root package only re-exports names lazily; its type-checking imports name every stage.
    graph.pop("planner", None)
    for targets in graph.values():
        targets.discard("planner")
    assert _cycles(graph) == []


def test_each_layer_imports_only_the_layers_below_it() -> None:
    upward = []
    for module, targets in _graph().items():
        rank = _layer(module)
        if rank is None:
            continue
        for target in targets:
            target_rank = _layer(target)
            if target_rank is not None and target_rank < rank:
                upward.append(f"{module} -> {target}")
    assert sorted(upward) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = _graph()
    assert "planner.placement" in graph["planner.cli.plan"] or any(
        target.startswith("planner.placement") for target in graph["planner.cli.plan"]
    )


def test_no_module_imports_the_root_package() -> None:
    # The root only re-exports lazily; importing it from inside would hide a cycle through it.
    # Only the command line, the top of the stack, may (for ``__version__``).
    importers = sorted(
        module
        for module, targets in _graph().items()
        if "planner" in targets and _layer(module) != 0 and module != "planner.__main__"
    )
    assert importers == []
