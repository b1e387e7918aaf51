"""The built wheel, installed into a fresh virtual environment and run from an empty folder,
does the whole main job offline: everything it reads at run time is package data.

The fresh environment gets the project only from the wheel (`pip install --no-deps`); its
third-party dependencies (torch, transformers, datasets, ...) are shared from the test
environment through one `.pth` line, because installing them again would take minutes. A
`.pth` directory is not scanned for `.pth` files, so this checkout's editable install stays
invisible there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: Top-level folders a wheel never ships (outputs, environments, caches).
UNSHIPPED = {".git", ".venv", "build", "dist", "quickstart-out", "runs", ".pytest_cache",
             ".benchmarks", ".hypothesis", "submissions", "leaderboard", "galaxy_sommelier.egg-info"}


def _unshipped(folder: str, names: list[str]) -> set[str]:
    top = Path(folder) == ROOT
    return {n for n in names if n == "__pycache__" or (top and n in UNSHIPPED)}

API_SCRIPT = """
import sys, benchmark
assert benchmark.__file__.startswith(sys.prefix), benchmark.__file__
DATA = "simulated-n300"
truth = benchmark.load_truth(DATA, "ukidss", "test")
sample = benchmark.sample_submission(DATA)
results = benchmark.score("submissions/probe/predictions/ukidss-test-seed0.parquet", data=DATA)
assert results.primary is not None and list(results.per_feature.index) == list(benchmark.FEATURES)
benchmark.write_entry("submissions/api", {"ukidss/test": sample}, data=DATA, name="Sample",
                      authors=["A. Tester"], model="constant", pretraining="none",
                      training_surveys=["sdss"], parameters=1, saw_ukidss=False)
benchmark.evaluate_entry("submissions/api")
print(len(benchmark.load_split(DATA, "sdss", "train")), results.primary)
"""


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    run = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"{' '.join(map(str, args))}\n{run.stdout}\n{run.stderr}"
    return run.stdout


@pytest.mark.slow
def test_the_wheel_does_the_main_job_in_a_fresh_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
               PYTHONNOUSERSITE="1")
    source = tmp_path / "source"  # a clean copy: no stale build/ of an earlier wheel
    shutil.copytree(ROOT, source, ignore=_unshipped)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(tmp_path / "dist"), str(source)], tmp_path, env)
    (wheel,) = (tmp_path / "dist").glob("galaxy_sommelier-*.whl")

    prefix = tmp_path / "venv"
    venv.create(prefix, with_pip=False)
    python = prefix / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                                "get_paths()['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())
    (site / "shared-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
          str(wheel)], tmp_path, env)

    work = tmp_path / "empty"
    work.mkdir()
    sommelier = str(prefix / "bin" / "sommelier")
    steps = [
        [sommelier, "sim", "--n", "300", "--out", "sim", "--quiet"],
        [sommelier, "data", "build", "--source", "sim:sim", "--out", "simulated-n300", "--quiet"],
        [sommelier, "train", "--config", "tiny-cpu-linear-probe", "--data", "simulated-n300",
         "--out", "runs/probe"],
        [sommelier, "predict", "--checkpoint", "runs/probe/best", "--data", "simulated-n300",
         "--split", "ukidss:test", "--split", "sdss:test", "--entry", "submissions/probe"],
        [sommelier, "evaluate", "submissions/probe", "--data", "simulated-n300"],
        [str(python), "-c", API_SCRIPT],
        [sommelier, "leaderboard", "--submissions", "submissions", "--out", "board"],
    ]
    for step in steps:
        _run(step, work, env)
    assert {p.name for p in (work / "board").iterdir()} == {
        "leaderboard.md", "leaderboard.json", "index.html", "per_feature.png"}
    assert "definition" in _run([str(python), "-c", "import benchmark.dataset.splits as s; "
                                 "print(s.DEFINITION)"], work, env)
