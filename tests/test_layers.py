"""The instructor tooling's imports run one way (issue 21): every module of instructor_tools
sits in one named layer, and no module imports one of a higher layer or takes part in an
import cycle. Imports are read with ast (those inside functions too), never run; a new module
must be given its layer here."""
from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "instructor_tools"

# Lowest first. A module belongs to the longest prefix that names it ("grader.executors"
# holds grader/executors/docker/runner.py). A module may import its own layer or lower ones.
LAYERS = [
    ("foundation", ["questions", "permissions", "release", "grader.errors", "grader.outcomes",
                    "grader.safetext", "grader.digest", "grader.store", "grader.process", "grader.hung_imports",
                    "grader.cgroups", "grader.worker", "grader.worker_trace"]),
    ("pieces", ["grader.result", "grader.config", "grader.codec", "grader.diagnosis",
                "grader.attribution", "grader.sandbox", "grader.submission", "grader.runscripts",
                "grader.data", "grader.literal_data", "grader.checks", "grader.deliverables",
                "grader.visibility", "grader.lateness", "grader.gradebook", "grader.preflight"]),
    ("worker protocol", ["grader.client"]),
    ("running checks", ["grader.runner", "grader.pytest_plugin"]),
    ("grading one submission", ["grader.api"]),
    ("executors and outputs", ["grader.executors", "grader.reports", "grader.class_report",
                               "grader.lms_export", "grader.calibrate", "similarity"]),
    ("entry points", ["grader.cli", "grader.task", "grader.pytest_entry", "container",
                      "nbgrader_course", "demo", "leaderboard"]),
]


def import_graph(package: pathlib.Path = PACKAGE) -> dict[str, set[str]]:
    """{module: the modules of the package it imports}, names relative to the package
    ("grader.client"); a package is named by its folder."""
    modules = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    graph = {}
    for name, path in modules.items():
        own = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = own[:len(own) - node.level + 1] + ([node.module] if node.module else [])
                    base = ".".join(base)
                else:
                    base = node.module or ""
                    if base != package.name and not base.startswith(package.name + "."):
                        continue
                    base = base[len(package.name) + 1:]
                # `from PKG import name`: the submodule PKG.name, else PKG itself
                targets = [f"{base}.{a.name}".strip(".") for a in node.names]
            else:
                continue
            for target in targets:
                if isinstance(node, ast.Import):
                    if not target.startswith(package.name + "."):
                        continue
                    target = target[len(package.name) + 1:]
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def layer_of(module: str) -> int | None:
    best, layer = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, layer = len(prefix), i
    return layer


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a module of a higher layer, as a sentence."""
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            a, b = layer_of(module), layer_of(target)
            if a is not None and b is not None and b > a:
                found.append(f"{module} ({LAYERS[a][0]}) imports {target} ({LAYERS[b][0]})")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: strongly connected sets of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_every_module_has_a_layer(graph):
    unplaced = [m for m in sorted(graph) if m not in ("", "grader") and layer_of(m) is None]
    assert not unplaced, f"give these modules a layer in tests/test_layers.py: {unplaced}"


def test_no_module_imports_upward(graph):
    assert graph["grader.client"] >= {"grader.codec", "grader.process", "grader.attribution",
                                      "grader.diagnosis", "grader.hung_imports"}
    assert upward_imports(graph) == []


def test_no_import_cycle(graph):
    assert cycles(graph) == []


def test_the_grader_never_imports_the_container_entry_points_or_the_leaderboard(graph):
    grader = {m: t for m, t in graph.items() if m.startswith("grader")}
    assert "grader.executors.docker.runner" in grader
    assert not [(m, t) for m, t in grader.items() for x in t
                if x.split(".")[0] in ("container", "leaderboard", "nbgrader_course")]
    assert not [(m, t) for m, t in graph.items() if m.startswith("leaderboard")
                for x in t if x.startswith("grader")]


def test_the_checks_above_catch_what_they_are_for():
    """An upward import and a cycle, made up: both are found and named."""
    made_up = {"grader.outcomes": {"grader.client"}, "grader.client": {"grader.codec"},
               "grader.codec": {"grader.client"}}
    assert upward_imports(made_up) == [
        "grader.codec (pieces) imports grader.client (worker protocol)",
        "grader.outcomes (foundation) imports grader.client (worker protocol)"]
    assert cycles(made_up) == [["grader.client", "grader.codec"]]
    assert layer_of("grader.executors.docker.runner") == layer_of("grader.executors")
    assert layer_of("grader.newmodule") is None
