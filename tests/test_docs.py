"""Every Python block of README.md and docs/api.md runs as written, in order, one namespace per
document, against a small simulated dataset where the quick start would have put its own.
Blocks fenced ```python hub need the Hugging Face Hub and are only compiled."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCUMENTS = ("README.md", "docs/api.md")
BLOCK = re.compile(r"^```python( hub)?\n(.*?)^```", re.S | re.M)


def blocks(document: str) -> list[tuple[bool, str]]:
    """(needs the Hub, code) of each Python block."""
    text = (ROOT / document).read_text(encoding="utf-8")
    return [(bool(m.group(1)), m.group(2)) for m in BLOCK.finditer(text)]


@pytest.fixture(scope="module")
def quickstart_data(tmp_path_factory) -> Path:
    from benchmark.dataset.build import build
    from benchmark.simulator.writer import simulate

    root = tmp_path_factory.mktemp("docs-data")
    sim = simulate(root / "sim", n=300, seed=0, image_size=32, progress=False)
    return build([f"sim:{sim}"], root / "simulated", progress=False).out


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_python_block_runs(document, quickstart_data, tmp_path, monkeypatch):
    found = blocks(document)
    assert found, f"{document} has no Python blocks"
    (tmp_path / "quickstart-out").mkdir()
    os.symlink(quickstart_data, tmp_path / "quickstart-out" / "simulated-n4000")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for i, (hub, code) in enumerate(found):
        compiled = compile(code, f"{document} block {i + 1}", "exec")
        if not hub:
            exec(compiled, namespace)  # noqa: S102 (our own documentation)


def test_the_block_finder_sees_hub_blocks():
    assert any(hub for hub, _ in blocks("README.md"))
    assert all(not hub for hub, _ in blocks("docs/api.md"))
