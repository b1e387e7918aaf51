"""A whole entry: validate every prediction file, score it against its split's truth, and
gather the seeds, the ID->OOD change and the fingerprints into `results.json`."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import registry as R
from ..errors import SommelierError, ValidationError
from ..fingerprint import files_fingerprint
from ..jsonfile import write_json
from . import metrics as M
from .options import ScoreOptions
from .predictions import read_predictions
from .scoring import FEATURES, Score, evaluator_info, score_predictions, summarise
from .submission import (METADATA_FILE, PREDICTIONS_DIR, RESULTS_FILE, PredictionFile,
                         load_submission, prediction_files)
from .truth import Truth, truth_from_frame


def _change(iid: dict, ood: dict) -> dict[str, float | None]:
    """OOD minus ID of every metric; undefined (None) where either side is, e.g. the r of a
    constant prediction."""
    return {m: None if iid[m] is None or ood[m] is None else ood[m] - iid[m] for m in M.METRICS}


def _id_to_ood(evaluations: dict[str, dict]) -> dict[str, Any]:
    """OOD minus ID (test splits) of every metric, per feature and macro, from seed means."""
    ood = evaluations[f"{R.PRIMARY_SURVEY}/{R.PRIMARY_SPLIT}"]["summary"]
    out = {}
    for survey in (s for s in R.SURVEYS.values() if not s.ood):
        key = f"{survey.name}/{R.PRIMARY_SPLIT}"
        if key not in evaluations:
            continue
        iid = evaluations[key]["summary"]
        out[survey.name] = {
            "features": {f: _change(iid["features"][f], ood["features"][f]) for f in FEATURES},
            "macro": _change(iid["macro"], ood["macro"])}
    return out


def _evaluation(truth: Truth, by_seed: dict[int, tuple[PredictionFile, Score]],
                root: Path) -> dict[str, Any]:
    """One survey/split of an entry: the seed summary and each seed's own numbers."""
    first = next(iter(by_seed.values()))[0]
    return {"survey": first.survey, "split": first.split, "truth": truth.info(),
            "seeds": sorted(by_seed), "summary": summarise([sc for _, sc in by_seed.values()]),
            "per_seed": {str(seed): dict(summarise([sc]),
                                         file=pf.path.relative_to(root).as_posix(),
                                         warnings=list(sc.warnings))
                         for seed, (pf, sc) in by_seed.items()}}


def evaluate_entry(entry: str | os.PathLike, data: str | None = None,
                   options: ScoreOptions = ScoreOptions(), *, write: bool = True) -> dict[str, Any]:
    """Validate and score every prediction file of an entry against `data` (a benchmark folder
    or Hub id; default: the entry's own `dataset`); write `entry/results.json` if `write`."""
    sub = load_submission(entry)
    if sub.status != "verified":
        raise ValidationError(f"{sub.root}: status {sub.status!r} entries have no predictions to "
                              f"score; the leaderboard shows their reported numbers as given")
    source = data or sub.dataset
    if source is None:
        raise SommelierError(f"{sub.root}: no dataset to score against; pass data (--data: a "
                             f"benchmark folder or Hub id) or set 'dataset' in {METADATA_FILE}")
    from ..dataset import load  # imports `datasets`: only when an entry is evaluated

    try:
        reference = load.resolve(source)
    except load.DataReferenceError as exc:
        if data is not None:
            raise
        raise ValidationError(f"{sub.root / METADATA_FILE}: dataset {exc.problem}; or pass data "
                              f"(--data) naming a copy of it") from None
    root = sub.root
    truths: dict[str, Truth] = {}
    runs: dict[str, dict[int, tuple[PredictionFile, Score]]] = defaultdict(dict)
    for pf in prediction_files(sub):
        if pf.key not in truths:
            frame = load.load_truth(reference.location, pf.survey, pf.split, reference.revision)
            truths[pf.key] = truth_from_frame(frame, options.min_votes, f"{source} {pf.key}")
        runs[pf.key][pf.seed] = (pf, score_predictions(truths[pf.key], read_predictions(pf.path),
                                                       options, str(pf.path)))
    evaluations = {key: _evaluation(truths[key], by_seed, root) for key, by_seed in runs.items()}
    primary_key = f"{R.PRIMARY_SURVEY}/{R.PRIMARY_SPLIT}"
    results = {
        "evaluator": evaluator_info(),
        "entry": sub.metadata(),
        "submission_fingerprint": entry_fingerprint(sub.root),
        "dataset": {"name": sub.dataset or source, "fingerprint": truths[primary_key].fingerprint},
        "options": asdict(options),
        "primary": dict(evaluations[primary_key]["summary"]["primary"],
                        seeds=len(evaluations[primary_key]["seeds"])),
        "evaluations": evaluations,
        "id_to_ood": _id_to_ood(evaluations),
        "warnings": [w for by_seed in runs.values() for _, sc in by_seed.values()
                     for w in sc.warnings],
    }
    if write:
        write_json(Path(entry) / RESULTS_FILE, results)
    return results


def entry_fingerprint(root: Path) -> str:
    """Fingerprint of what an entry's results depend on: its metadata and prediction files."""
    files = [root / METADATA_FILE] + sorted(p for p in (root / PREDICTIONS_DIR).glob("*")
                                            if p.is_file() and not p.name.startswith("."))
    return files_fingerprint(root, files)
