"""Scoring one prediction table against a truth table (`sommelier score`).

Legacy scoring reproduces the original study (nulls as 0, every galaxy, flattened r) so its
published numbers can be checked. Several seeds of one entry share bootstrap draws, so the
interval of the seed mean is the percentile interval of the per-replicate seed means.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import __version__
from .. import registry as R
from ..jsonfile import plain
from . import metrics as M
from .options import ScoreOptions
from .predictions import align, check_predictions, fraction_sum_warnings, read_predictions
from .truth import Truth, read_truth

FEATURES = R.BENCHMARK_FEATURES
#: Weights of the per-question macro: each question 1/4, shared by its answers. Under a
#: per-question softmax the yes/no answers of a binary question have the same r, so the
#: 9-feature macro (the primary metric) counts edge-on, bar and spiral twice; this one does not.
QUESTION_WEIGHTS = np.array([1.0 / (len(R.BENCHMARK_QUESTIONS) * len(
    R.QUESTION_BY_NAME[R.QUESTION_OF_FEATURE[f]].answers)) for f in FEATURES])
PRIMARY = {"metric": "pearson_r", "aggregate": "macro", "survey": R.PRIMARY_SURVEY,
           "split": R.PRIMARY_SPLIT}


def evaluator_info() -> dict[str, str]:
    """Who computed a result: every results file and leaderboard names it."""
    return {"name": "galaxy-sommelier", "version": __version__}


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
    n, f = truth.values.shape
    design = M.design_matrix(pred, truth.values, truth.mask,
                             out=M.scratch("design", (len(M.SUMS) * f, n)).T)
    point = M.point_moments(design)
    replicates = {}
    if options.bootstrap:
        replicates = M.evaluate(M.bootstrap_moments(design, options.bootstrap, options.seed,
                                                    truth.shared))
    return Score(values=M.evaluate(point), n=point.n, galaxies=int(truth.mask.any(axis=1).sum()),
                 replicates=replicates, warnings=tuple(warnings),
                 legacy=legacy_metrics(truth, pred) if options.legacy else None)


def score_predictions(truth: Truth, frame: pd.DataFrame, options: ScoreOptions,
                      where: str) -> Score:
    """Check a prediction table, align it with the truth and score it."""
    return score_aligned(truth, frame, options, where)[0]


def score_aligned(truth: Truth, frame: pd.DataFrame, options: ScoreOptions,
                  where: str) -> tuple[Score, np.ndarray]:
    """`score_predictions`, also giving the checked predictions aligned with the truth's rows
    (paired comparisons of the same galaxies in two surveys need them)."""
    pred = align(check_predictions(frame, where), truth.ids, where)
    return score(truth, pred, options, fraction_sum_warnings(pred, where)), pred


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
    question_macro = block(describe(lambda a: a @ QUESTION_WEIGHTS), None, scores[0].galaxies)
    r = per_feature["pearson_r"][0]
    worst = None if np.isnan(r).all() else int(np.nanargmin(r))
    primary = dict(PRIMARY, value=macro["pearson_r"],
                   ci=macro["ci"]["pearson_r"] if boot else None)
    if several:
        primary["std"] = macro["std"]["pearson_r"]
    return plain({"features": {f: block(per_feature, j, int(scores[0].n[j]))
                               for j, f in enumerate(FEATURES)},
                  "macro": macro,
                  "question_macro": question_macro,
                  "worst_feature": {"feature": None if worst is None else FEATURES[worst],
                                    "pearson_r": None if worst is None else r[worst]},
                  "primary": primary})


def score_report(truth: Truth, truth_file: str | None, frame: pd.DataFrame,
                 predictions_file: str | None, options: ScoreOptions) -> dict[str, Any]:
    """One prediction table against one truth, as the JSON `sommelier score --json` writes
    (`*_file`: where each came from, None for an in-memory table)."""
    result = score_predictions(truth, frame, options, predictions_file or "predictions")
    report = {"evaluator": evaluator_info(), "options": asdict(options),
              "truth": dict(truth.info(), file=truth_file),
              "predictions": {"file": predictions_file}, **summarise([result]),
              "warnings": list(result.warnings)}
    if result.legacy is not None:
        report["legacy"] = result.legacy
    return report


def score_files(truth_path: str, predictions_path: str, options: ScoreOptions) -> dict[str, Any]:
    """`sommelier score`: one prediction file against one labelled table."""
    truth = read_truth(truth_path, options.min_votes)
    return score_report(truth, truth_path, read_predictions(predictions_path, len(truth.ids)),
                        predictions_path, options)
