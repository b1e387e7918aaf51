"""Scoring: prediction tables against truth tables, one file (`score`) or a whole entry.

Standard scoring counts a feature for a galaxy only where its question was asked (truth not
null) and, when the truth has vote totals, answered by at least `min_votes` volunteers. Legacy
scoring reproduces the original study (nulls as 0, every galaxy, flattened r) so its published
numbers can be checked. Several seeds of one entry share bootstrap draws, so the interval of
the seed mean is the percentile interval of the per-replicate seed means.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import __version__
from . import metrics as M
from . import registry as R
from .errors import SommelierError, ValidationError
from .fingerprint import files_fingerprint, table_fingerprint
from .jsonfile import plain, write_json
from .predictions import ID_COLUMN, align, check_predictions, fraction_sum_warnings, read_predictions
from .score_options import ScoreOptions
from .submission import (METADATA_FILE, PREDICTIONS_DIR, RESULTS_FILE, PredictionFile,
                         load_submission, prediction_files)
from .tables import read_table

FEATURES = R.BENCHMARK_FEATURES
PRIMARY = {"metric": "pearson_r", "aggregate": "macro", "survey": R.PRIMARY_SURVEY,
           "split": R.PRIMARY_SPLIT}
#: Values outside [0, 1] by less than this in a truth table are float rounding, not errors.
_TRUTH_SLACK = 1e-6


def evaluator_info() -> dict[str, str]:
    return {"name": "galaxy-sommelier", "version": __version__}


# --- truth -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Truth:
    """A labelled table sorted by id: fractions (NaN = not asked) and the cells to score."""

    ids: pd.Index
    values: np.ndarray
    mask: np.ndarray
    vote_columns: tuple[str, ...]
    fingerprint: str

    def info(self) -> dict[str, Any]:
        return {"rows": len(self.ids), "fingerprint": self.fingerprint,
                "vote_columns": list(self.vote_columns)}


def truth_from_frame(frame: pd.DataFrame, min_votes: int, where: str) -> Truth:
    """Check a truth table (`id_str`, `<feature>_fraction`, optional `<question>_total_votes`)."""
    fractions = [R.fraction_column(f) for f in FEATURES]
    missing = [c for c in [ID_COLUMN] + fractions if c not in frame.columns]
    if missing:
        raise ValidationError(f"{where}: truth table lacks column(s) {', '.join(missing)}; it "
                              f"needs {ID_COLUMN} and <feature>_fraction for the nine features")
    frame = frame.sort_values(ID_COLUMN, kind="stable", ignore_index=True)
    ids = frame[ID_COLUMN]
    if ids.isna().any() or ids.duplicated().any():
        raise ValidationError(f"{where}: truth {ID_COLUMN} must be unique and non-empty")
    votes = [R.total_votes_column(q) for q in R.BENCHMARK_QUESTIONS]
    present = tuple(c for c in votes if c in frame.columns)
    try:
        values = frame[fractions].to_numpy(dtype=np.float64, na_value=np.nan)
        counts = {c: frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in present}
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{where}: truth fractions and vote totals must be numeric "
                              f"({exc})") from exc
    if np.any((values < -_TRUTH_SLACK) | (values > 1 + _TRUTH_SLACK)):
        raise ValidationError(f"{where}: truth fractions must lie in [0, 1] (or be null where "
                              f"the question was not asked)")
    mask = ~np.isnan(values)
    for j, feature in enumerate(FEATURES):
        column = R.total_votes_column(R.QUESTION_OF_FEATURE[feature])
        if column in counts:
            with np.errstate(invalid="ignore"):
                mask[:, j] &= counts[column] >= min_votes
    fingerprint = table_fingerprint(
        ids.astype(str), {**dict(zip(fractions, values.T)), **counts})
    return Truth(pd.Index(ids.astype(str)), values, mask, present, fingerprint)


def read_truth(path: str | os.PathLike, min_votes: int) -> Truth:
    return truth_from_frame(read_table(path, what="truth"), min_votes, str(path))


# --- one prediction table ------------------------------------------------------------------

@dataclass(frozen=True)
class Score:
    """Metrics of one prediction table: point values (F,), bootstrap replicates (B, F)."""

    values: dict[str, np.ndarray]
    n: np.ndarray
    galaxies: int  # galaxies with at least one scored feature
    replicates: dict[str, np.ndarray]  # empty when no bootstrap was asked for
    warnings: tuple[str, ...] = ()
    legacy: dict[str, Any] | None = None


def legacy_metrics(truth: Truth, pred: np.ndarray) -> dict[str, Any]:
    """The original study's definitions: nulls as 0, all galaxies, flattened r, r^2 as 'R2'."""
    y = np.nan_to_num(truth.values, nan=0.0)
    everything = np.ones_like(y, dtype=bool)
    per_feature = M.evaluate(M.point_moments(M.design_matrix(pred, y, everything)))
    pooled = M.evaluate(M.point_moments(M.design_matrix(
        pred.reshape(-1, 1), y.reshape(-1, 1), everything.reshape(-1, 1))))
    r = float(pooled["pearson_r"][0])
    return plain({"overall_r": r, "overall_r2": r * r, "mae": pooled["mae"][0],
                  "mse": pooled["mse"][0], "n": y.size,
                  "features": {f: {"pearson_r": per_feature["pearson_r"][j],
                                   "mse": per_feature["mse"][j], "mae": per_feature["mae"][j],
                                   "n": len(y)} for j, f in enumerate(FEATURES)}})


def score(truth: Truth, pred: np.ndarray, options: ScoreOptions,
          warnings: Sequence[str] = ()) -> Score:
    """Score predictions already aligned with `truth` (same rows, benchmark feature columns)."""
    design = M.design_matrix(pred, truth.values, truth.mask)
    point = M.point_moments(design)
    replicates = {}
    if options.bootstrap:
        replicates = M.evaluate(M.bootstrap_moments(design, options.bootstrap, options.seed))
    return Score(values=M.evaluate(point), n=point.n, galaxies=int(truth.mask.any(axis=1).sum()),
                 replicates=replicates, warnings=tuple(warnings),
                 legacy=legacy_metrics(truth, pred) if options.legacy else None)


def score_predictions(truth: Truth, frame: pd.DataFrame, options: ScoreOptions,
                      where: str) -> Score:
    """Check a prediction table, align it with the truth and score it."""
    checked = check_predictions(frame, where)
    pred = align(checked, truth.ids, where)
    return score(truth, pred, options, fraction_sum_warnings(pred, where))


# --- summaries (JSON-ready) -----------------------------------------------------------------

def summarise(scores: Sequence[Score]) -> dict[str, Any]:
    """Per-feature and macro metrics of one or several seeds (mean; std when several), as
    plain JSON values (undefined = None).

    Intervals come from the per-replicate mean over seeds (replicates are paired because
    every seed is scored with the same bootstrap draws).
    """
    several, boot = len(scores) > 1, bool(scores[0].replicates)

    def describe(aggregate) -> dict[str, tuple]:
        """metric -> (mean over seeds, std over seeds, interval), after `aggregate` (B|S, F)."""
        out = {}
        for m in M.METRICS:
            values = aggregate(np.stack([s.values[m] for s in scores]))
            reps = aggregate(np.mean([s.replicates[m] for s in scores], axis=0)) if boot else None
            out[m] = (values.mean(axis=0), values.std(axis=0, ddof=1) if several else None,
                      M.percentile_interval(reps) if boot else None)
        return out

    def block(stats: dict[str, tuple], at: int | None, n: int) -> dict[str, Any]:
        """The JSON block of feature `at` (None: the aggregate itself)."""
        def pick(a: np.ndarray) -> np.ndarray:
            return a if at is None else a[..., at]
        out: dict[str, Any] = {m: pick(stats[m][0]) for m in M.METRICS}
        out["n"] = n
        out["ci"] = {m: pick(stats[m][2]) for m in M.METRICS} if boot else None
        if several:
            out["std"] = {m: pick(stats[m][1]) for m in M.METRICS}
        return out

    per_feature = describe(lambda a: a)
    macro = block(describe(lambda a: a.mean(axis=-1)), None, scores[0].galaxies)
    r = per_feature["pearson_r"][0]
    worst = None if np.isnan(r).all() else int(np.nanargmin(r))
    primary = dict(PRIMARY, value=macro["pearson_r"],
                   ci=macro["ci"]["pearson_r"] if boot else None)
    if several:
        primary["std"] = macro["std"]["pearson_r"]
    return plain({"features": {f: block(per_feature, j, int(scores[0].n[j]))
                               for j, f in enumerate(FEATURES)},
                  "macro": macro,
                  "worst_feature": {"feature": None if worst is None else FEATURES[worst],
                                    "pearson_r": None if worst is None else r[worst]},
                  "primary": primary})


def score_report(truth_path: str, predictions_path: str, options: ScoreOptions) -> dict[str, Any]:
    """`sommelier score`: one prediction file against one labelled table."""
    truth = read_truth(truth_path, options.min_votes)
    result = score_predictions(truth, read_predictions(predictions_path), options,
                               predictions_path)
    report = {"evaluator": evaluator_info(), "options": asdict(options),
              "truth": dict(truth.info(), file=truth_path),
              "predictions": {"file": predictions_path}, **summarise([result]),
              "warnings": list(result.warnings)}
    if result.legacy is not None:
        report["legacy"] = result.legacy
    return report


# --- a whole entry ------------------------------------------------------------------------

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


def evaluate_entry(entry: str | os.PathLike, data: str | None,
                   options: ScoreOptions) -> dict[str, Any]:
    """Validate and score every prediction file of an entry; write `entry/results.json`."""
    sub = load_submission(entry)
    if sub.status != "verified":
        raise ValidationError(f"{sub.root}: status {sub.status!r} entries have no predictions to "
                              f"score; the leaderboard shows their reported numbers as given")
    source = data or sub.dataset
    if source is None:
        raise SommelierError(f"{sub.root}: no dataset to score against; pass --data (a benchmark "
                             f"folder or Hub id) or set 'dataset' in {METADATA_FILE}")
    from .dataset import load_truth  # imports `datasets`: only when an entry is evaluated

    root = sub.root
    truths: dict[str, Truth] = {}
    runs: dict[str, dict[int, tuple[PredictionFile, Score]]] = defaultdict(dict)
    for pf in prediction_files(sub):
        if pf.key not in truths:
            frame = load_truth(source, pf.survey, pf.split)
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
    write_json(Path(entry) / RESULTS_FILE, results)
    return results


def entry_fingerprint(root: Path) -> str:
    """Fingerprint of what an entry's results depend on: its metadata and prediction files."""
    files = [root / METADATA_FILE] + sorted(p for p in (root / PREDICTIONS_DIR).glob("*")
                                            if p.is_file() and not p.name.startswith("."))
    return files_fingerprint(root, files)
