"""Reference rows drawn beside a group's entries: where the scale of the primary metric starts
and what bounds it, from the group's own truth.

- **Constant (floor)**: a prediction that ignores the image has r 0 (r is undefined for a
  constant; 0 is its expectation for any image-independent prediction).
- **Label-shift ceiling (sdss, decals)**: the optical volunteers' fractions of the same
  galaxies scored as predictions of the UKIDSS volunteers' (`evaluation.gap.label_shift`).
- **Vote-noise ceiling**: the r a perfect predictor of each galaxy's answer probabilities
  reaches against labels from finite votes (`evaluation.ceilings`): the top of the scale, so an
  entry's share of the gap closed is its primary metric over this ceiling (the floor being 0).
Each row's bootstrap draws are the entries' draws (same truth rows, same seed), so an entry's
distance to a reference has a paired interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import registry as R
from ..errors import SommelierError, ValidationError
from ..evaluation.ceilings import ceilings, question_totals, summarise_ceilings
from ..evaluation.entry import TruthSource
from ..evaluation.gap import label_shift, paired_optical_surveys, primary_replicates
from ..evaluation.metrics import percentile_interval
from ..evaluation.options import ScoreOptions
from ..evaluation.scoring import summarise


@dataclass(frozen=True)
class Reference:
    """One reference row: its primary metric, interval and per-feature r."""

    key: str
    name: str
    description: str
    primary: float | None
    ci: tuple[float, float] | None
    features: dict[str, float | None]
    replicates: np.ndarray | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "description": self.description,
                "primary": {"value": self.primary, "ci": self.ci}, "features": self.features}


VOTE_NOISE = "vote_noise"  # the key of the row an entry's gap closed is measured against
FLOOR = Reference("floor", "Constant (floor)",
                  "any prediction that ignores the image: r 0", 0.0, None,
                  dict.fromkeys(R.BENCHMARK_FEATURES, 0.0))


def _label_shift(truth: TruthSource, survey: str, options: ScoreOptions) -> Reference | None:
    paired = R.PAIRED_SPLIT[R.PRIMARY_SPLIT]
    try:
        optical = truth(survey, paired)
    except SommelierError:  # a dataset version without paired splits
        return None
    s = label_shift(truth(R.PRIMARY_SURVEY, R.PRIMARY_SPLIT), optical, options)
    summary = summarise([s])
    primary = summary["primary"]
    return Reference(
        f"label_shift_{survey}", f"Label-shift ceiling ({survey})",
        f"the {survey} volunteers' fractions of the same galaxies ({survey}/{paired}) as "
        f"predictions of the UKIDSS volunteers'", primary["value"],
        tuple(primary["ci"]) if primary.get("ci") else None,
        {f: b["pearson_r"] for f, b in summary["features"].items()}, primary_replicates(s))


def _vote_noise(truth: TruthSource, options: ScoreOptions) -> Reference | None:
    ukidss = truth(R.PRIMARY_SURVEY, R.PRIMARY_SPLIT)
    try:
        c = ceilings(ukidss, question_totals(ukidss), options)
    except ValidationError:  # a truth without vote totals has no noise estimate
        return None
    summary = summarise_ceilings(c)
    return Reference(
        VOTE_NOISE, "Vote-noise ceiling",
        "a perfect predictor of each galaxy's answer probabilities, against labels from "
        "finite votes", summary["macro"]["r"],
        tuple(summary["macro"]["ci"]) if summary["macro"]["ci"] is not None else None,
        {f: b["r"] for f, b in summary["features"].items()},
        None if c.replicates is None else c.replicates.mean(axis=1))


def references(truth: TruthSource, options: ScoreOptions) -> list[Reference]:
    """The reference rows of a group whose entries are scored against `truth`."""
    rows = [_label_shift(truth, s, options) for s in paired_optical_surveys()]
    rows.append(_vote_noise(truth, options))
    return [FLOOR, *(r for r in rows if r is not None)]


def gap_closed(primary: float | None, replicates: np.ndarray | None,
               refs: list[Reference]) -> tuple[float | None, tuple[float, float] | None]:
    """Share of the floor-to-ceiling gap an entry closes (primary / vote-noise ceiling), with
    the percentile interval of the per-draw ratio (both on the same draws)."""
    top = next((r for r in refs if r.key == VOTE_NOISE), None)
    if top is None or primary is None or not top.primary:
        return None, None
    share = (primary - FLOOR.primary) / (top.primary - FLOOR.primary)
    if replicates is None or top.replicates is None:
        return share, None
    lo, hi = percentile_interval((replicates - FLOOR.primary) / (top.replicates - FLOOR.primary))
    return share, None if np.isnan(lo) else (float(lo), float(hi))
