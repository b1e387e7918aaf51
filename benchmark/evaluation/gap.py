"""Why models lose accuracy on UKIDSS: what the same galaxies in two surveys tell.

The optical `paired_test` splits hold the optical views of the UKIDSS test galaxies, so for
each galaxy there are two volunteer labels (optical y_o, near-infrared y_u) and, for an entry
that predicts both views, two predictions (p_o, p_u).

- **Label-shift ceiling**: the optical volunteers' fractions scored as predictions of the
  UKIDSS volunteers' (rows where both are labelled). What a model that reproduced the optical
  labels perfectly from NIR images would reach; a model can pass it only by learning how
  volunteers see UKIDSS.
- **Paired consistency** of an entry: per feature, r between its two views' predictions and
  their mean absolute change, and its UKIDSS error e = p_u - y_u split exactly into
  a = p_o - y_o (its error on the optical view), b = y_o - y_u (the label shift) and
  c = p_u - p_o (its change of prediction between views): e = a + b + c, so
  MSE = mean(e*a) + mean(e*b) + mean(e*c). Each part is its mean product with the total error;
  the parts sum to the MSE exactly, and one is negative when it cancels another (a view change
  that undoes the label shift).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from .. import registry as R
from .options import ScoreOptions
from .scoring import FEATURES, PRIMARY, Score, score
from .truth import Truth

#: The parts of the UKIDSS error, in the order they are reported.
PARTS = ("optical_error", "label_shift", "view_change")


def paired_rows(ukidss: Truth, optical: Truth) -> tuple[np.ndarray, np.ndarray]:
    """Row positions in each truth of the galaxies both hold (by group id)."""
    if ukidss.groups is None or optical.groups is None:
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    _, u, o = np.intersect1d(ukidss.groups, optical.groups, assume_unique=True, return_indices=True)
    return u, o


def label_shift(ukidss: Truth, optical: Truth, options: ScoreOptions) -> Score:
    """The optical labels as predictions of the UKIDSS labels of the same galaxies, scored on
    the UKIDSS rows (so its bootstrap draws pair with every entry's) where both are labelled."""
    u, o = paired_rows(ukidss, optical)
    pred = np.zeros_like(ukidss.values)
    pred[u] = np.nan_to_num(optical.values[o])
    mask = np.zeros_like(ukidss.mask)
    mask[u] = ukidss.mask[u] & optical.mask[o]
    return score(replace(ukidss, mask=mask, shared={}), pred, options)


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:  # r of a constant is undefined
        return None
    return float(np.corrcoef(x, y)[0, 1])


def consistency(ukidss: Truth, optical: Truth, pred_u: np.ndarray, pred_o: np.ndarray
                ) -> dict[str, Any]:
    """An entry's paired view of the same galaxies (`pred_*` aligned with each truth's rows):
    per feature the r and mean absolute change between its two views' predictions and the
    split of its UKIDSS MSE into PARTS, on rows where both labels are scored."""
    u, o = paired_rows(ukidss, optical)
    features = {}
    for j, feature in enumerate(FEATURES):
        keep = ukidss.mask[u, j] & optical.mask[o, j]
        pu, po = pred_u[u[keep], j], pred_o[o[keep], j]
        yu, yo = ukidss.values[u[keep], j], optical.values[o[keep], j]
        e = pu - yu
        parts = dict(zip(PARTS, (po - yo, yo - yu, pu - po)))
        n = int(keep.sum())
        features[feature] = {
            "n": n, "views_pearson_r": _pearson(po, pu),
            "mean_abs_change": float(np.mean(np.abs(pu - po))) if n else None,
            "mse": float(np.mean(e * e)) if n else None,
            **{k: float(np.mean(e * v)) if n else None for k, v in parts.items()}}
    return {"galaxies": len(u), "features": features, "macro": _macro(features)}


def _macro(features: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    keys = ("views_pearson_r", "mean_abs_change", "mse", *PARTS)
    out = {}
    for k in keys:
        values = [f[k] for f in features.values() if f[k] is not None]
        out[k] = float(np.mean(values)) if len(values) == len(features) else None
    return out


def mean_over_seeds(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Seed mean of consistency blocks of the same truths (None stays None)."""
    def mean(values):
        return None if any(v is None for v in values) else float(np.mean(values))

    first = blocks[0]
    return {"galaxies": first["galaxies"], "seeds": len(blocks),
            "features": {f: {k: (v if k == "n" else mean([b["features"][f][k] for b in blocks]))
                             for k, v in first["features"][f].items()} for f in FEATURES},
            "macro": {k: mean([b["macro"][k] for b in blocks]) for k in first["macro"]}}


def paired_optical_surveys() -> list[str]:
    """The optical surveys whose paired split holds the UKIDSS test galaxies."""
    return [s for s, survey in R.SURVEYS.items()
            if not survey.ood and R.PAIRED_SPLIT[R.PRIMARY_SPLIT] in survey.splits]


def primary_replicates(s: Score) -> np.ndarray | None:
    """Per bootstrap draw, the macro r of a score (as an entry's primary replicates)."""
    reps = s.replicates.get(PRIMARY["metric"])
    return None if reps is None else reps.mean(axis=-1)
