"""The package tree shows the pipeline: no import circles, no import from an earlier stage to a
later one, and nothing of `benchmark` outside `cli/` imports the reference models."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: Stage of each part of `benchmark`, in pipeline order; a module may import its own stage or
#: an earlier one. The package face (`benchmark/__init__.py`) names the API lazily and is
#: exempt; the shared ground floor is every top-level module.
STAGES = ("ground", "simulator", "dataset", "evaluation", "leaderboard", "cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in STAGES) else "ground"


def imports(path: Path) -> set[str]:
    """Every module of ours that `path` imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found.add(target)
            found |= {f"{target}.{a.name}" for a in node.names}  # `from . import x`
    ours = {m for m in found if m.split(".")[0] in ("benchmark", "baselines")}
    return {m for m in ours if (ROOT / Path(*m.split("."))).with_suffix(".py").is_file()
            or (ROOT / Path(*m.split(".")) / "__init__.py").is_file()}


def graph() -> dict[str, set[str]]:
    files = sorted(p for p in (ROOT / "benchmark").rglob("*.py"))
    return {module_name(p): imports(p) for p in files}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def package_edges() -> dict[str, set[str]]:
    """Module imports without the package-to-own-children ones (`__init__` naming its API)."""
    return {m: {t for t in targets if not t.startswith(m + ".") and t != m}
            for m, targets in graph().items() if m != "benchmark"}


def test_no_import_circles():
    assert cycles(package_edges()) == []


def test_the_cycle_finder_finds_a_planted_circle():
    edges = package_edges()
    edges["benchmark.dataset.build"] = edges["benchmark.dataset.build"] | {
        "benchmark.dataset.publish"}
    edges["benchmark.dataset.publish"] = edges["benchmark.dataset.publish"] | {
        "benchmark.dataset.build"}
    assert ["benchmark.dataset.build", "benchmark.dataset.publish"] in cycles(edges)


def test_no_import_against_the_pipeline():
    against = [(m, t) for m, targets in package_edges().items() for t in targets
               if t.startswith("benchmark") and t != "benchmark"
               and STAGES.index(stage(t)) > STAGES.index(stage(m))]
    assert against == []


@pytest.mark.parametrize("module, expected", [
    ("benchmark.registry", "ground"), ("benchmark.simulator.writer", "simulator"),
    ("benchmark.dataset", "dataset"), ("benchmark.cli.commands.score", "cli")])
def test_stages_are_read_from_the_tree(module, expected):
    assert stage(module) == expected


def test_only_the_cli_imports_the_baselines():
    offenders = sorted(m for m, targets in graph().items()
                       if any(t.startswith("baselines") for t in targets)
                       and not m.startswith("benchmark.cli"))
    assert offenders == []
    assert any(t.startswith("baselines") for t in graph()["benchmark.cli.models"])


def test_the_submission_format_is_defined_once():
    """`baselines` writes entries through the evaluator's writer, never by its own naming."""
    patterns = [r'"submission\.yaml"', r'"predictions"', r'-seed\{[^}]*\}\.(parquet|csv)',
                r'"training-domain"']
    for path in (ROOT / "baselines").rglob("*.py"):
        text = path.read_text()
        for pattern in patterns:
            assert not re.search(pattern, text), f"{path.name} re-declares {pattern}"
