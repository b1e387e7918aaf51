"""Reference rows drawn beside a group's entries: where the scale of the primary metric starts
and what bounds it, from the group's own truth.

- **Constant (floor)**: a prediction that ignores the image has r 0 (r is undefined for a
  constant; 0 is its expectation for any image-independent prediction).
- **Label-shift ceiling (sdss, decals)**: the optical volunteers' fractions of the same
  galaxies scored as predictions of the UKIDSS volunteers' (`evaluation.gap.label_shift`).
Each row's bootstrap draws are the entries' draws (same truth rows, same seed), so an entry's
distance to a reference has a paired interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import registry as R
from ..errors import SommelierError
from ..evaluation.entry import TruthSource
from ..evaluation.gap import label_shift, paired_optical_surveys, primary_replicates
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


def references(truth: TruthSource, options: ScoreOptions) -> list[Reference]:
    """The reference rows of a group whose entries are scored against `truth`."""
    shifts = [_label_shift(truth, s, options) for s in paired_optical_surveys()]
    return [FLOOR, *(r for r in shifts if r is not None)]
