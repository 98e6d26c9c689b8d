"""The package's shape (issue 15): imports point one way (no cycle among inkread's modules, counting
the imports inside functions too), and every module imports on its own in a fresh interpreter."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "inkread"


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The inkread modules an import statement names (``from . import io`` names ``inkread.io``)."""
    is_package = MODULES[module].name == "__init__.py"
    here = module.split(".") if is_package else module.split(".")[:-1]
    if isinstance(node, ast.ImportFrom):
        base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else [])) \
            if node.level else (node.module or "")
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    else:
        names = [a.name for a in node.names]
    found = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("inkread") and name != module:
            found.append(name)
    return found


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module].update(_imported(module, node))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
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
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    graph = import_graph()
    assert len(graph) > 50 and "inkread.export" in graph["inkread"]  # the graph is really read
    found = cycles(graph)
    edges = {tuple(c): {m: sorted(graph[m] & set(c)) for m in c} for c in found}
    assert not found, f"import cycles (module -> the cycle's modules it imports): {edges}"


@pytest.fixture(scope="module")
def imported_alone() -> dict[str, subprocess.CompletedProcess]:
    """Every module imported in a fresh interpreter of its own, as many at once as there are cores
    (one after the other took a fifth of the suite's time)."""
    from concurrent.futures import ThreadPoolExecutor

    def run(module: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True,
                              timeout=300)

    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        return dict(zip(sorted(MODULES), pool.map(run, sorted(MODULES))))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_alone(module, imported_alone):
    if module.startswith("inkread.training"):
        pytest.importorskip("torch")
    if module == "inkread.raybatch":
        pytest.importorskip("ray")
    done = imported_alone[module]
    assert done.returncode == 0, done.stderr[-2000:]


#: a module longer than this says why at its top ("Why this module is long")
MAX_LINES = 400


def test_no_long_module_without_a_reason():
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
            and "Why this module is long" not in (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "")}
    assert not long, f"split these along their jobs, or say at their top why they are long: {long}"


def test_a_backend_is_one_folder_and_one_registry_line():
    """Everything PP-OCR-specific lives under backends/: nothing outside it imports the PP-OCR
    reader's parts except the backends themselves, the training recipe (which rebuilds its weights)
    and the tests."""
    graph = import_graph()
    outside = {m: sorted(d for d in deps if d.startswith("inkread.backends.ppocr."))
               for m, deps in graph.items()
               if not m.startswith(("inkread.backends", "inkread.training"))}
    assert not {m: d for m, d in outside.items() if d}, outside
