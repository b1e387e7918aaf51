"""The truth an evaluation scores against: a labelled table, checked and sorted by id.

Standard scoring counts a feature for a galaxy only where its question was asked (truth not
null) and, when the truth has vote totals, answered by at least `min_votes` volunteers; the
`mask` records exactly those cells.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import registry as R
from ..errors import ValidationError
from ..fingerprint import table_fingerprint
from ..tables import read_table
from .predictions import ID_COLUMN

FEATURES = R.BENCHMARK_FEATURES
#: Values outside [0, 1] by less than this in a truth table are float rounding, not errors.
_TRUTH_SLACK = 1e-6


@dataclass(frozen=True)
class Truth:
    """A labelled table sorted by id: fractions (NaN = not asked) and the cells to score."""

    ids: pd.Index
    values: np.ndarray
    mask: np.ndarray
    vote_columns: tuple[str, ...]
    fingerprint: str
    #: What every table scored against this truth can share (its bootstrap sums).
    shared: dict = field(default_factory=dict, compare=False, repr=False)
    #: The physical galaxy of each row (`group_id`, where the table has it): how a split is
    #: paired with the same galaxies in another survey.
    groups: np.ndarray | None = field(default=None, compare=False, repr=False)
    #: The vote total of each question the table has (`vote_columns`), in the sorted rows.
    totals: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def info(self) -> dict[str, Any]:
        return {"rows": len(self.ids), "fingerprint": self.fingerprint,
                "vote_columns": list(self.vote_columns)}


def truth_from_frame(frame: pd.DataFrame, min_votes: int, where: str = "truth") -> Truth:
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
        if column in counts and min_votes > 0:  # 0 = every answered cell, totals or not
            with np.errstate(invalid="ignore"):
                mask[:, j] &= counts[column] >= min_votes
    fingerprint = table_fingerprint(
        ids.astype(str), {**dict(zip(fractions, values.T)), **counts})
    groups = frame["group_id"].astype(str).to_numpy() if "group_id" in frame.columns else None
    return Truth(pd.Index(ids.astype(str)), values, mask, present, fingerprint, groups=groups,
                 totals=counts)


def read_truth(path: str | os.PathLike, min_votes: int) -> Truth:
    return truth_from_frame(read_table(path, what="truth"), min_votes, str(path))


