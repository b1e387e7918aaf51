"""How predictions are compared with vote fractions: the metric registry and its bootstrap.

Every metric is a function of eight weighted sums per feature (count, the two centred means,
their squares and cross product, absolute and squared errors). A point estimate weights each
galaxy 1 (or 0 where the feature is not scored); a bootstrap replicate weights it by how often
it was drawn. So all replicates of all metrics are one matrix product, which is what makes a
1,000-draw bootstrap of a 70,845-galaxy submission sub-second.
"""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Iterator, Mapping

import numpy as np
from threadpoolctl import threadpool_limits

#: The weighted sums a metric may use, in the column order of `design_matrix`: first those
#: that depend only on the truth (and which cells are scored), so every table scored against
#: one truth can share their bootstrap sums.
SUMS: tuple[str, ...] = ("n", "truth", "truth2", "pred", "pred2", "cross", "abs_err", "sq_err")
TRUTH_SUMS = 3

#: Replicates per matrix product: two float64 buffers of 28 MB each for a UKIDSS-sized table.
BOOTSTRAP_CHUNK = 50
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Moments:
    """Weighted means per feature (shape (..., F)) from which every metric follows."""

    n: np.ndarray
    mean_pred: np.ndarray
    mean_truth: np.ndarray
    var_pred: np.ndarray
    var_truth: np.ndarray
    cov: np.ndarray
    mae: np.ndarray
    mse: np.ndarray

    @classmethod
    def from_sums(cls, sums: np.ndarray) -> "Moments":
        """`sums` has shape (..., len(SUMS) * F), as `weights @ design_matrix(...)`."""
        shape = sums.shape[:-1] + (len(SUMS), sums.shape[-1] // len(SUMS))
        s = dict(zip(SUMS, np.moveaxis(sums.reshape(shape), -2, 0)))
        with np.errstate(invalid="ignore", divide="ignore"):
            n = s["n"]
            mx, my = s["pred"] / n, s["truth"] / n
            return cls(n=n, mean_pred=mx, mean_truth=my,
                       var_pred=s["pred2"] / n - mx * mx, var_truth=s["truth2"] / n - my * my,
                       cov=s["cross"] / n - mx * my, mae=s["abs_err"] / n, mse=s["sq_err"] / n)


@dataclass(frozen=True)
class Metric:
    """One registry entry: how a metric follows from the moments, and how to read it."""

    name: str
    label: str
    higher_is_better: bool
    formula: Callable[[Moments], np.ndarray]
    description: str


def _pearson(m: Moments) -> np.ndarray:
    # Clip rounding noise so a perfect prediction gives exactly |r| <= 1.
    return np.clip(m.cov / np.sqrt(m.var_pred * m.var_truth), -1.0, 1.0)


METRICS: Mapping[str, Metric] = MappingProxyType({m.name: m for m in (
    Metric("pearson_r", "Pearson r", True, _pearson,
           "linear correlation of predicted and volunteer fractions"),
    Metric("r2", "R²", True, lambda m: 1.0 - m.mse / m.var_truth,
           "coefficient of determination, 1 - SSE/SST (not the square of r)"),
    Metric("mae", "MAE", False, lambda m: m.mae, "mean absolute error"),
    Metric("rmse", "RMSE", False, lambda m: np.sqrt(m.mse), "root mean squared error"),
    Metric("mse", "MSE", False, lambda m: m.mse, "mean squared error"),
)})


_SCRATCH = threading.local()


def scratch(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float64 array of `shape` kept for this thread and reused by the next call of the same
    name and shape. On a virtual machine a fresh page costs microseconds, so a 70,845-galaxy
    bootstrap spent more time touching new memory than computing; the contents are
    overwritten by every user."""
    kept = getattr(_SCRATCH, "arrays", None)
    if kept is None:
        kept = _SCRATCH.arrays = {}
    if name not in kept or kept[name].shape != shape:
        kept[name] = np.empty(shape)
    return kept[name]


def design_matrix(pred: np.ndarray, truth: np.ndarray, mask: np.ndarray,
                  out: np.ndarray | None = None) -> np.ndarray:
    """Per-galaxy terms (n, len(SUMS) * F) whose weighted column sums give `Moments`.

    Values are centred on each feature's scored mean first, so the variance and covariance
    sums do not cancel catastrophically. Unscored cells contribute nothing. Every term is
    computed straight into its block of one array, stored column by column (the transpose
    of a C-ordered array) so the truth-only and the prediction columns are each one
    contiguous block for the matrix products; `out` (e.g. a `scratch(...).T`) is reused.
    """
    n, f = truth.shape
    design = np.empty((len(SUMS) * f, n)).T if out is None else out
    w, y, yy, x, xx, xy, abs_err, sq_err = (design[:, k * f:(k + 1) * f]
                                            for k in range(len(SUMS)))
    np.copyto(w, mask)
    np.copyto(y, np.where(mask, truth, 0.0))
    np.copyto(x, np.where(mask, pred, 0.0))
    np.subtract(x, y, out=sq_err)
    np.abs(sq_err, out=abs_err)
    np.square(sq_err, out=sq_err)
    count = np.maximum(w.sum(axis=0), 1.0)
    for centred in (x, y):
        centred -= centred.sum(axis=0) / count
        centred *= w
    np.multiply(x, x, out=xx)
    np.multiply(y, y, out=yy)
    np.multiply(x, y, out=xy)
    return design


def point_moments(design: np.ndarray) -> Moments:
    """Moments of every feature over its scored galaxies: shape (F,)."""
    return Moments.from_sums(design.sum(axis=0))


def bootstrap_indices(n: int, draws: int, seed: int) -> Iterator[np.ndarray]:
    """Row indices of each replicate in turn (resampling galaxies with replacement).

    The stream depends only on (n, draws, seed), so a reference implementation can replay the
    very same replicates, and two prediction files scored against one truth table share them
    (paired replicates, which is what lets seed means and differences get intervals). One
    replicate at a time keeps the indices in the CPU cache instead of filling fresh memory.
    """
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        yield rng.integers(0, n, size=n, dtype=np.int32)


def _draw_counts(n: int, draws: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """How often each galaxy is drawn in each replicate of `bootstrap_indices`, chunk by
    chunk: (first replicate, uint8 block (chunk, n))."""
    counts = np.empty((draws, n), dtype=np.uint8)
    indices = bootstrap_indices(n, draws, seed)
    for start in range(0, draws, BOOTSTRAP_CHUNK):
        block = counts[start:start + BOOTSTRAP_CHUNK]
        for row, drawn in zip(block, indices):
            row[:] = np.bincount(drawn, minlength=n)
        yield start, block
    _COUNTS[:] = [(n, draws, seed), counts]


def bootstrap_counts(n: int, draws: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """The replicates' draw counts (see `_draw_counts`), reusing the last ones computed.

    The counts depend only on (n, draws, seed), so every other table scored against a truth
    of the same size (the seeds of an entry, the entries of a leaderboard) reuses them instead
    of drawing 70 million indices again. A count above 255 would need n in the billions (the
    largest of 10^8 Poisson(1)-like counts is about 12).
    """
    if _COUNTS[0] != (n, draws, seed):
        yield from _draw_counts(n, draws, seed)
        return
    for start in range(0, draws, BOOTSTRAP_CHUNK):
        yield start, _COUNTS[1][start:start + BOOTSTRAP_CHUNK]


#: (n, draws, seed) and the counts of the last bootstrap drawn (see `bootstrap_counts`).
_COUNTS: list = [None, None]


def forget_bootstrap_counts() -> None:
    """Drop the kept counts (their 70 MB for a UKIDSS-sized table; benchmarks time a cold
    bootstrap)."""
    _COUNTS[:] = [None, None]


#: Threads that share each chunk's matrix product (one BLAS thread each, half the rows each).
PRODUCT_THREADS = 2


def _weighted_sums(columns: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """`counts @ columns` for every replicate: shape (draws, columns).

    Each chunk's product runs on worker threads, half of its replicates each, while the next
    chunk's counts are converted (or drawn: drawing holds the GIL, the products do not). Each
    product uses one BLAS thread: on a shared machine a spinning extra BLAS thread made the
    bootstrap up to twice as slow. A replicate's sums are one row of one product, so they are
    the same however the threads interleave.
    """
    n = len(columns)
    sums = np.empty((draws, columns.shape[1]))
    size = min(BOOTSTRAP_CHUNK, draws)
    buffers = [scratch("weights-a", (size, n)), scratch("weights-b", (size, n))]
    pending: list[list] = []
    with threadpool_limits(limits=1, user_api="blas"), \
            ThreadPoolExecutor(max_workers=PRODUCT_THREADS) as pool:
        for i, (start, block) in enumerate(bootstrap_counts(n, draws, seed)):
            if i >= 2:
                for future in pending[i - 2]:  # those products have finished with this buffer
                    future.result()
            weights = buffers[i % 2][:len(block)]
            np.copyto(weights, block)
            parts = np.array_split(np.arange(len(block)), PRODUCT_THREADS)
            pending.append([pool.submit(np.matmul, weights[rows[0]:rows[-1] + 1], columns,
                                        out=sums[start + rows[0]:start + rows[-1] + 1])
                            for rows in parts if len(rows)])
        for futures in pending:
            for future in futures:
                future.result()
    return sums


def bootstrap_moments(design: np.ndarray, draws: int, seed: int,
                      shared: dict | None = None) -> Moments:
    """Moments of every replicate: shape (draws, F).

    `shared` (a dict kept with the truth) holds the bootstrap sums of the truth-only columns,
    so the second and later tables scored against that truth compute only their own 5 of the
    8 sums per feature.
    """
    split = TRUTH_SUMS * (design.shape[1] // len(SUMS))
    key = ("truth sums", draws, seed)
    if shared is None or key not in shared:
        sums = _weighted_sums(design, draws, seed)
        if shared is not None:
            shared[key] = sums[:, :split].copy()
        return Moments.from_sums(sums)
    own = _weighted_sums(design[:, split:], draws, seed)
    return Moments.from_sums(np.concatenate([shared[key], own], axis=1))


def evaluate(moments: Moments) -> dict[str, np.ndarray]:
    """Every registered metric, same shape as the moments."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {name: metric.formula(moments) for name, metric in METRICS.items()}


def percentile_interval(replicates: np.ndarray, level: float = CONFIDENCE) -> np.ndarray:
    """Percentile bootstrap interval along axis 0: shape (2, ...); undefined replicates skipped."""
    tail = 100 * (1 - level) / 2
    with warnings.catch_warnings():  # an all-undefined column simply has no interval (NaN)
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(replicates, [tail, 100 - tail], axis=0)
