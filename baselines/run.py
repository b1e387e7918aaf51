"""One training run: config, dataset, seed and output folder, and the record that repeats it.

`run.json` in the output folder (and a copy in every checkpoint) records the full config, the
seed, the dataset with its revision and per-split fingerprints, and the code version. A run
resumed in the same folder must match that record, so two different runs never mix.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from benchmark import __version__
from benchmark.dataset import layout as D
from benchmark.atomic import write_text
from benchmark.errors import SommelierError

from .config import Config

RECORD = "run.json"
MATCHING = ("config", "seed", "data")  # what a resumed run must share with the record


@dataclass(frozen=True)
class Run:
    config: Config
    data: str
    seed: int
    out: Path


def resolve(config: Config, data: str | None, seed: int, out: str | Path | None) -> Run:
    """Fill in the defaults: the config's own dataset, `runs/<config>-seed<S>`."""
    data = data or config.data.dataset
    if not data:
        raise SommelierError(f"config {config.name!r} names no dataset: pass --data "
                             "(a benchmark folder or Hub id)")
    out = Path(out) if out else Path("runs") / f"{config.name}-seed{seed}"
    return Run(config, str(data), seed, out)


def dataset_name(data: str, revision: str | None = None) -> str:
    """How a submission names its dataset so `--data` can find it again: `ORG/NAME@REVISION`
    for the Hub, a local folder's name (the quick start's `simulated-n<N>` names say how to
    rebuild them)."""
    path = Path(data)
    if path.is_dir():
        return path.resolve().name
    return f"{data}@{revision}" if revision else data


def code_version() -> str:
    """Package version plus the git commit (and `-dirty`) when run from a checkout."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=Path(__file__).parent,
            capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+{described}"


def data_record(data: str, revision: str | None, splits: Iterable) -> dict[str, Any]:
    manifest = Path(data) / D.MANIFEST
    return {
        "dataset": data,
        "revision": revision,
        "manifest_sha256": (hashlib.sha256(manifest.read_bytes()).hexdigest()
                            if manifest.is_file() else None),
        "splits": {s.name: s.fingerprint for s in splits},
    }


def make_record(run: Run, splits: Iterable) -> dict[str, Any]:
    import torch
    import transformers

    return {
        "config": run.config.to_dict(),
        "seed": run.seed,
        "data": data_record(run.data, run.config.data.revision, splits),
        "code": code_version(),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__},
    }


def claim(run: Run, record: dict[str, Any], write: bool) -> None:
    """Write the run record, or check that an existing one describes the same run."""
    path = run.out / RECORD
    if path.is_file():
        old = json.loads(path.read_text())
        # JSON turns tuples into lists: compare both sides as JSON
        new = json.loads(json.dumps(record))
        changed = [k for k in MATCHING if old.get(k) != new.get(k)]
        if changed:
            raise SommelierError(f"{run.out} holds a different run ({', '.join(changed)} "
                                 "differ); resume with the same settings or choose another --out")
    elif write:
        write_text(path, json.dumps(record, indent=1, sort_keys=True))
