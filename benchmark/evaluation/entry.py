"""A whole entry: validate every prediction file, score it against its split's truth, and
gather the seeds, the ID->OOD change and the fingerprints into `results.json`."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import registry as R
from ..errors import SommelierError, ValidationError
from ..fingerprint import files_fingerprint
from ..jsonfile import write_json
from . import metrics as M
from .options import ScoreOptions
from .predictions import read_predictions
from .gap import consistency, mean_over_seeds, paired_optical_surveys
from .scoring import FEATURES, PRIMARY, Score, evaluator_info, score_aligned, summarise
from .submission import (METADATA_FILE, PREDICTIONS_DIR, RESULTS_FILE, PredictionFile,
                         Submission, load_submission, prediction_files)
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


def _paired(truths: dict[str, Truth], aligned: dict[str, dict[int, np.ndarray]]
            ) -> dict[str, Any]:
    """Per optical survey whose paired split the entry predicted: its paired consistency with
    its UKIDSS test predictions of the same galaxies (seed mean over the seeds both have)."""
    primary = f"{R.PRIMARY_SURVEY}/{R.PRIMARY_SPLIT}"
    out = {}
    for survey in paired_optical_surveys():
        key = f"{survey}/{R.PAIRED_SPLIT[R.PRIMARY_SPLIT]}"
        seeds = sorted(set(aligned.get(key, {})) & set(aligned[primary]))
        if seeds:
            out[survey] = mean_over_seeds([
                consistency(truths[primary], truths[key], aligned[primary][s], aligned[key][s])
                for s in seeds])
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


@dataclass(frozen=True)
class EntryScore:
    """What scoring an entry gives: the `results.json` document, and per bootstrap draw the
    primary metric (seed-mean macro r on UKIDSS test), which paired comparisons need."""

    results: dict[str, Any]
    primary_replicates: np.ndarray | None


TruthSource = Callable[[str, str], Truth]  # (survey, split) -> its truth


def dataset_truths(source: str, min_votes: int) -> TruthSource:
    """The truths of `source` (a benchmark folder or Hub id), each split loaded once."""
    from ..dataset import load  # `datasets` itself is imported only when a split is loaded

    reference = load.resolve(source)
    loaded: dict[tuple[str, str], Truth] = {}

    def truth(survey: str, split: str) -> Truth:
        if (survey, split) not in loaded:
            frame = load.load_truth(reference.location, survey, split, reference.revision)
            loaded[survey, split] = truth_from_frame(frame, min_votes, f"{source} {survey}/{split}")
        return loaded[survey, split]
    return truth


def named_dataset_truths(sub: Submission, location: str, min_votes: int,
                         remedy: str) -> TruthSource:
    """The truths of the dataset an entry names, found at `location`; if it cannot be
    loaded, the error points at the entry's submission.yaml and says `remedy`."""
    from ..dataset.load import DataReferenceError

    try:
        return dataset_truths(location, min_votes)
    except DataReferenceError as exc:
        raise ValidationError(f"{sub.root / METADATA_FILE}: dataset {exc.problem}; or "
                              f"{remedy}") from None


def entry_truths(sub: Submission, truth: TruthSource) -> dict[str, Truth]:
    """The truth of every split the entry has prediction files for."""
    return {pf.key: truth(pf.survey, pf.split) for pf in prediction_files(sub)}


def score_entry(sub: Submission, truths: dict[str, Truth], options: ScoreOptions,
                dataset: str, fingerprint: str | None = None) -> EntryScore:
    """Score every prediction file of a checked entry against its split's truth
    (`fingerprint`: the entry's, when the caller has already read its files)."""
    root = sub.root
    runs: dict[str, dict[int, tuple[PredictionFile, Score]]] = defaultdict(dict)
    aligned: dict[str, dict[int, np.ndarray]] = defaultdict(dict)
    for pf in prediction_files(sub):
        frame = read_predictions(pf.path, expected_rows=len(truths[pf.key].ids))
        result, aligned[pf.key][pf.seed] = score_aligned(truths[pf.key], frame, options,
                                                         str(pf.path))
        runs[pf.key][pf.seed] = (pf, result)
    evaluations = {key: _evaluation(truths[key], by_seed, root) for key, by_seed in runs.items()}
    primary_key = f"{R.PRIMARY_SURVEY}/{R.PRIMARY_SPLIT}"
    results = {
        "evaluator": evaluator_info(),
        "entry": sub.metadata(),
        "submission_fingerprint": fingerprint or entry_fingerprint(sub.root),
        "dataset": {"name": dataset, "revision": dataset.partition("@")[2] or None,
                    "fingerprint": truths[primary_key].fingerprint},
        "options": asdict(options),
        "primary": dict(evaluations[primary_key]["summary"]["primary"],
                        seeds=len(evaluations[primary_key]["seeds"])),
        "evaluations": evaluations,
        "id_to_ood": _id_to_ood(evaluations),
        "paired": _paired(truths, aligned),
        "warnings": [w for by_seed in runs.values() for _, sc in by_seed.values()
                     for w in sc.warnings],
    }
    scores = [sc for _, sc in runs[primary_key].values()]
    replicates = (np.mean([sc.replicates[PRIMARY["metric"]] for sc in scores], axis=0)
                  .mean(axis=-1) if options.bootstrap else None)
    return EntryScore(results, replicates)


def load_verified(entry: str | os.PathLike) -> Submission:
    sub = load_submission(entry)
    if sub.status != "verified":
        raise ValidationError(f"{sub.root}: status {sub.status!r} entries have no predictions to "
                              f"score; the leaderboard shows their reported numbers as given")
    return sub


def evaluate_entry(entry: str | os.PathLike, data: str | None = None,
                   options: ScoreOptions = ScoreOptions(), *, write: bool = True) -> dict[str, Any]:
    """Validate and score every prediction file of an entry against `data` (a benchmark folder
    or Hub id; default: the entry's own `dataset`); write `entry/results.json` if `write`."""
    sub = load_verified(entry)
    source = data or sub.dataset
    if source is None:
        raise SommelierError(f"{sub.root}: no dataset to score against; pass data (--data: a "
                             f"benchmark folder or Hub id) or set 'dataset' in {METADATA_FILE}")
    truth = (dataset_truths(data, options.min_votes) if data is not None else
             named_dataset_truths(sub, source, options.min_votes,
                                  "pass data (--data) naming a copy of it"))
    results = score_entry(sub, entry_truths(sub, truth), options, sub.dataset or source).results
    if write:
        write_json(Path(entry) / RESULTS_FILE, results)
    return results


def entry_fingerprint(root: Path) -> str:
    """Fingerprint of what an entry's results depend on: its metadata and prediction files."""
    files = [root / METADATA_FILE] + sorted(p for p in (root / PREDICTIONS_DIR).glob("*")
                                            if p.is_file() and not p.name.startswith("."))
    return files_fingerprint(root, files)
