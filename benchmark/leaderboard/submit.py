"""The check a contributed entry must pass before it joins the leaderboard: the folder holds
only what a contributor may add (submission.yaml and prediction files), the entry is valid,
and it scores against the dataset it names, exactly as the leaderboard will score it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..evaluation.entry import load_verified
from ..evaluation.options import ScoreOptions
from ..evaluation.submission import METADATA_FILE, PREDICTIONS_DIR, RESULTS_FILE
from .board import score_named_dataset

#: What may be in an entry folder besides prediction files (results.json is generated).
ALLOWED = {METADATA_FILE, PREDICTIONS_DIR, RESULTS_FILE}


@dataclass(frozen=True)
class Checked:
    slug: str
    results: dict[str, Any]


def check_entry(entry: str | os.PathLike, *, data_root: str | os.PathLike | None = None,
                options: ScoreOptions = ScoreOptions()) -> Checked:
    """Validate and score one entry folder; raise a `ValidationError` naming what is wrong."""
    root = Path(entry)
    if root.is_dir() and not root.is_symlink():
        extra = sorted(p.name for p in root.iterdir() if p.name not in ALLOWED)
        if extra:
            raise ValidationError(f"{root}: unexpected file(s) {', '.join(map(repr, extra))}; "
                                  f"an entry holds only {METADATA_FILE} and {PREDICTIONS_DIR}/")
    sub = load_verified(root)
    score = score_named_dataset(sub, {}, None if data_root is None else Path(data_root), options)
    return Checked(sub.slug, score.results)
