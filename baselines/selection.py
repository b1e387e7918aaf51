"""Which epoch a stage keeps: the validation score `training.select` names, and what beats it.

`loss` (lower is better) is the benchmark's default. `correlation` (higher is better) is what
the original study early-stopped on: the Pearson r of all validation predictions against all
targets, flattened into one vector (its "overall correlation"), over the entries the loss keeps
(`loss.missing`: asked answers, or every output with unasked ones as 0). A data-parallel
validation adds up per-galaxy sums (`moments`), so r is the same on any number of processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

MOMENTS = 6  # per galaxy: n, sum x, sum y, sum x^2, sum y^2, sum xy


def _lower(value: float, best: float) -> bool:
    return value < best  # a NaN loss never improves (as before `select` existed)


def _higher(value: float, best: float) -> bool:
    """A NaN correlation (constant predictions) never improves and is beaten by any number."""
    return not math.isnan(value) and (math.isnan(best) or value > best)


@dataclass(frozen=True)
class Selection:
    better: Callable[[float, float], bool]  # (this epoch's score, best so far) -> improved
    correlates: bool  # validation must also compute the correlation


SELECTIONS: dict[str, Selection] = {
    "loss": Selection(_lower, correlates=False),
    "correlation": Selection(_higher, correlates=True),
}


def improves(select: str, value: float, best: float | None) -> bool:
    """Does this epoch's validation score beat the stage's best (none yet: it does)?"""
    return best is None or SELECTIONS[select].better(value, best)


def moments(predicted: torch.Tensor, target: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """Per galaxy (rows) the sums a flattened Pearson r needs, over the kept entries only."""
    x, y, w = predicted.double(), target.double(), kept.double()
    x, y = x * w, y * w
    return torch.stack([w.sum(1), x.sum(1), y.sum(1), x.square().sum(1), y.square().sum(1),
                        (x * y).sum(1)], 1)


def pearson(sums: torch.Tensor) -> float:
    """Pearson r from `moments` summed over galaxies (NaN where either side is constant)."""
    n, sx, sy, sxx, syy, sxy = (float(v) for v in sums)
    spread = (n * sxx - sx * sx) * (n * syy - sy * sy)
    return (n * sxy - sx * sy) / math.sqrt(spread) if spread > 0 else math.nan
