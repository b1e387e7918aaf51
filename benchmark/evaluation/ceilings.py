"""Vote-noise ceilings: the Pearson r a perfect predictor reaches against finite-vote labels.

A label is a vote fraction f = k/n: k of the n volunteers who reached a question gave the
answer. A model that knew each galaxy's underlying answer probability p (the fraction an
unlimited crowd would give) still would not reach r = 1 against f, because f scatters around
p. The ceiling is that r, per feature on the rows the evaluator scores, and its macro mean
over the nine features (the ceiling of the primary metric). A gap between a model and its
ceiling is what better modelling can win; the rest is noise in the labels.

Estimator (reliability, i.e. the classical correction for attenuation). With f = p + e and
E[e | p, n] = 0, cov(p, f) = var p, so

    r(p, f) = sqrt(var p / var f),   var p = var f - E[var(e | p, n)].

Under binomial votes var(e | p, n) = p(1-p)/n, and f(1-f)/(n-1) estimates it without bias
from the row's own votes (E[f(1-f)] = p(1-p)(1 - 1/n)). Hence, over the scored rows,

    ceiling = sqrt(1 - mean[f(1-f)/(n-1)] / var f),   clipped to [0, 1].

Assumptions: given p and n a question's votes are binomial (volunteers answer independently,
as exchangeable draws from the crowd, once each); n is the number who answered the question
(`<question>_total_votes`) and f is the raw k/n, not a debiased or weighted fraction; which
rows are scored depends on n, not on the answers. Volunteer disagreement beyond binomial
(the Dirichlet of a Dirichlet-multinomial) belongs to p: it is the galaxy's, and more votes
would not remove it. The estimate is exact to O(1/N) in the N scored galaxies. It is
undefined (NaN) for a feature when a scored row has fewer than 2 votes (min_votes < 2) or the
scored fractions do not vary.

Intervals are percentile bootstrap intervals on the evaluator's own draws
(`metrics.bootstrap_counts`, rows in the truth's id order), so replicate b of a ceiling pairs
with replicate b of every table scored against the same truth and options (e.g. r / ceiling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import registry as R
from ..errors import ValidationError
from ..jsonfile import plain
from . import metrics as M
from .options import ScoreOptions
from .truth import Truth, truth_from_frame

FEATURES = R.BENCHMARK_FEATURES
#: Weighted sums per feature, in the column blocks of `noise_design`.
_SUMS = ("n", "fraction", "fraction2", "noise")
ESTIMATOR = "reliability: sqrt(1 - mean[f(1-f)/(n-1)] / var f) over the scored galaxies"


@dataclass(frozen=True)
class Ceilings:
    """Vote-noise ceilings of one truth: per feature (F,), and per bootstrap replicate (B, F)."""

    r: np.ndarray
    n: np.ndarray  # scored galaxies per feature
    replicates: np.ndarray | None  # None without a bootstrap

    @property
    def macro(self) -> float:
        """The ceiling of the primary metric: the mean over the nine features."""
        return float(self.r.mean())


def question_totals(truth: Truth, where: str = "truth") -> np.ndarray:
    """Votes behind each feature's fraction (its question's total), (N, F) in `truth`'s rows."""
    columns = [R.total_votes_column(R.QUESTION_OF_FEATURE[f]) for f in FEATURES]
    missing = sorted(set(columns) - set(truth.totals))
    if missing:
        raise ValidationError(f"{where}: a vote-noise ceiling needs the vote totals behind the "
                              f"fractions; the table lacks {', '.join(missing)}")
    return np.stack([truth.totals[c] for c in columns], axis=1)


def noise_design(truth: Truth, totals: np.ndarray) -> np.ndarray:
    """Per-galaxy terms (N, 4F) whose weighted column sums give the ceiling: scored flag,
    centred fraction, its square, and the unbiased binomial noise f(1-f)/(n-1)."""
    w = truth.mask.astype(np.float64)
    f = np.where(truth.mask, truth.values, 0.0)
    centred = (f - f.sum(axis=0) / np.maximum(w.sum(axis=0), 1.0)) * w
    noise = np.where(truth.mask, f * (1.0 - f) / np.maximum(totals - 1.0, 1.0), 0.0)
    return np.concatenate([w, centred, centred * centred, noise], axis=1)


def ceiling_from_sums(sums: np.ndarray) -> np.ndarray:
    """Ceilings (..., F) from the sums (..., 4F) of `noise_design`'s columns."""
    n, s1, s2, noise = np.split(sums, len(_SUMS), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = s2 / n - mean * mean
        return np.sqrt(np.clip(1.0 - (noise / n) / var, 0.0, 1.0))


def _bootstrap_sums(design: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """`counts @ design` for every replicate of the evaluator's bootstrap: (draws, 4F)."""
    sums = np.empty((draws, design.shape[1]))
    for start, block in M.bootstrap_counts(len(design), draws, seed):
        np.matmul(block.astype(np.float64), design, out=sums[start:start + len(block)])
    return sums


def ceilings(truth: Truth, totals: np.ndarray, options: ScoreOptions) -> Ceilings:
    """Vote-noise ceilings of `truth` (its mask: the evaluator's rows) given its vote totals."""
    design = noise_design(truth, totals)
    # Fewer than 2 votes: no unbiased noise estimate from the row itself (see module notes).
    undefined = (truth.mask & ~(totals >= 2)).any(axis=0)

    def defined(r: np.ndarray) -> np.ndarray:
        return np.where(undefined, np.nan, r)

    replicates = None
    if options.bootstrap:
        replicates = defined(ceiling_from_sums(
            _bootstrap_sums(design, options.bootstrap, options.seed)))
    return Ceilings(r=defined(ceiling_from_sums(design.sum(axis=0))),
                    n=truth.mask.sum(axis=0), replicates=replicates)


def summarise_ceilings(c: Ceilings) -> dict[str, Any]:
    """JSON-ready: per feature r, n and interval; the macro (primary metric) ceiling."""
    boot = c.replicates is not None
    per_feature = M.percentile_interval(c.replicates) if boot else None
    macro_ci = M.percentile_interval(c.replicates.mean(axis=1)) if boot else None
    return plain({
        "estimator": ESTIMATOR,
        "features": {f: {"r": c.r[j], "n": c.n[j],
                         "ci": None if per_feature is None else per_feature[:, j]}
                     for j, f in enumerate(FEATURES)},
        "macro": {"r": c.macro, "ci": macro_ci},
    })


def vote_noise_ceiling(frame: pd.DataFrame, options: ScoreOptions = ScoreOptions(),
                       where: str = "truth") -> dict[str, Any]:
    """The vote-noise ceiling of a truth table (`id_str`, `<feature>_fraction`,
    `<question>_total_votes`), on the rows `options` score, as plain JSON values:
    {"estimator", "features": {f: {"r", "n", "ci"}}, "macro": {"r", "ci"}}."""
    truth = truth_from_frame(frame, options.min_votes, where)
    return summarise_ceilings(ceilings(truth, question_totals(truth, where), options))
