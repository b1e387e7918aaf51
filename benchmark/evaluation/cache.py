"""Scores kept between runs, so regenerating a leaderboard re-scores only what changed.

A score is stored under the sha256 of everything it depends on: the evaluator version and the
scoring code, the options, the dataset name, the entry's metadata and prediction files, and the
fingerprint of every truth it was scored against (computed from the data, not read from the
entry). The cache lives outside the repository (`$SOMMELIER_CACHE`, default
`~/.cache/galaxy-sommelier/scores`; `SOMMELIER_CACHE=off` disables it), where no contributor
can write: an entry's own `results.json` is an output the leaderboard regenerates, never an
input it believes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..atomic import write_text
from .entry import EntryScore
from .options import ScoreOptions
from .scoring import evaluator_info
from .truth import Truth

OFF = ("off", "0", "none", "")


def cache_root() -> Path | None:
    """Where scores are kept, or None when caching is off."""
    value = os.environ.get("SOMMELIER_CACHE")
    if value is not None:
        return None if value.strip().lower() in OFF else Path(value).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "galaxy-sommelier" / "scores"


@functools.lru_cache(maxsize=1)
def evaluator_code() -> str:
    """sha256 of the scoring code itself: a change to it (even without a version bump, as
    while developing) makes every kept score stale."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def score_key(fingerprint: str, truths: dict[str, Truth], options: ScoreOptions,
              dataset: str) -> str:
    """The sha256 naming one entry's score (`fingerprint`: its `entry_fingerprint`): any
    change to what it depends on is a new key."""
    inputs = {"evaluator": evaluator_info(), "code": evaluator_code(),
              "options": asdict(options), "dataset": dataset, "entry": fingerprint,
              "truths": {key: truth.fingerprint for key, truth in sorted(truths.items())}}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def lookup(key: str) -> EntryScore | None:
    root = cache_root()
    path = None if root is None else root / f"{key}.json"
    if path is None or not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        replicates = stored["primary_replicates"]
        return EntryScore(stored["results"],
                          None if replicates is None else np.asarray(replicates, dtype=float))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable: scored again and rewritten


def store(key: str, score: EntryScore) -> None:
    """Keep a score (exact floats: JSON round-trips them). A failure to write only costs a
    re-score next time."""
    root = cache_root()
    if root is None:
        return
    replicates = None if score.primary_replicates is None else score.primary_replicates.tolist()
    try:
        write_text(root / f"{key}.json", json.dumps(
            {"results": score.results, "primary_replicates": replicates}))
    except OSError:
        pass
