"""Plain reference implementations (scipy/numpy, one feature and one replicate at a time) that
the vectorised metrics are checked and timed against."""

from __future__ import annotations

import numpy as np
import scipy.stats

from benchmark.evaluation import metrics as M

#: Independent definitions of each registered metric, on the scored values of one feature.
REFERENCE = {
    "pearson_r": lambda p, y: scipy.stats.pearsonr(p, y)[0],
    "r2": lambda p, y: 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2),
    "mae": lambda p, y: np.mean(np.abs(p - y)),
    "rmse": lambda p, y: np.sqrt(np.mean((p - y) ** 2)),
    "mse": lambda p, y: np.mean((p - y) ** 2),
}


def loop_point(p: np.ndarray, y: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric, feature by feature, on the scored rows."""
    return {m: np.array([f(p[mask[:, j], j], y[mask[:, j], j]) for j in range(p.shape[1])])
            for m, f in REFERENCE.items()}


def loop_bootstrap(p: np.ndarray, y: np.ndarray, mask: np.ndarray, draws: int,
                   seed: int) -> dict[str, np.ndarray]:
    """Replay the evaluator's draws and score each resample with `loop_point`: (draws, F)."""
    out: dict[str, list] = {m: [] for m in REFERENCE}
    for rows in M.bootstrap_indices(len(p), draws, seed):
        for m, values in loop_point(p[rows], y[rows], mask[rows]).items():
            out[m].append(values)
    return {m: np.array(v) for m, v in out.items()}
