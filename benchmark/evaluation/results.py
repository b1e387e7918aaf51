"""The Python face of scoring: `score(predictions, ...)` -> `Results`, for notebooks.

`Results` wraps exactly the report `sommelier score --json` writes, so a number seen in a
notebook and one in a results file are the same number; it adds views (a per-feature
DataFrame, a Markdown table, an HTML repr), never other numbers.
"""

from __future__ import annotations

import copy
import html
import os
from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from .. import registry as R
from ..errors import SommelierError
from .display import estimate, summary_table
from .metrics import METRICS
from .options import DEFAULT_BOOTSTRAP, DEFAULT_MIN_VOTES, ScoreOptions
from .scoring import score_report
from .truth import read_truth, truth_from_frame
from .writer import TableLike, as_frame


@dataclass(frozen=True)
class Results:
    """One scored prediction table. `report` is the `sommelier score --json` document."""

    report: Mapping[str, Any]

    @property
    def primary(self) -> float | None:
        """The primary metric: macro mean Pearson r over the nine features."""
        return self.report["primary"]["value"]

    @property
    def ci(self) -> tuple[float, float] | None:
        """95% bootstrap interval of the primary metric (None without a bootstrap)."""
        ci = self.report["primary"]["ci"]
        return None if ci is None else (ci[0], ci[1])

    @property
    def warnings(self) -> list[str]:
        return list(self.report["warnings"])

    @property
    def per_feature(self) -> pd.DataFrame:
        """One row per feature (registry order): every metric, n, and r's 95% interval."""
        rows = {}
        for feature, block in self.report["features"].items():
            row = {m: block[m] for m in METRICS}
            row["n"] = block["n"]
            ci = (block.get("ci") or {}).get("pearson_r")
            row["pearson_r_low"], row["pearson_r_high"] = ci if ci else (None, None)
            rows[feature] = row
        frame = pd.DataFrame.from_dict(rows, orient="index").astype(
            {m: "float64" for m in METRICS} | {"pearson_r_low": "float64",
                                               "pearson_r_high": "float64"})
        frame.index.name = "feature"
        return frame

    def to_dict(self) -> dict[str, Any]:
        """A copy of the report: exactly the JSON of `sommelier score --json`."""
        return copy.deepcopy(dict(self.report))

    def table(self) -> str:
        """The per-feature table as Markdown, with the primary metric under it."""
        return summary_table(self.report, tablefmt="github")

    def _primary_text(self) -> str:
        primary = self.report["primary"]
        return estimate(primary["value"], primary.get("std"), primary["ci"])

    def __repr__(self) -> str:
        return (f"Results(primary macro r = {self._primary_text()}, "
                f"galaxies = {self.report['macro']['n']})")

    def _repr_html_(self) -> str:
        return (f"<p><b>macro Pearson r</b> (primary): {html.escape(self._primary_text())}</p>"
                + self.per_feature.to_html(float_format=lambda v: f"{v:.3f}", na_rep="-"))


def _truth(truth: TableLike | None, data: str | None, survey: str, split: str,
           revision: str | None, min_votes: int):
    """(Truth, the label of where it came from) from a table, a path or a dataset."""
    if truth is not None and data is not None:
        raise SommelierError("score: give truth= (a labelled table) or data= (a benchmark "
                             "folder or Hub id), not both")
    if isinstance(truth, (str, os.PathLike)):
        return read_truth(truth, min_votes), os.fspath(truth)
    if truth is not None:
        return truth_from_frame(as_frame(truth, "truth"), min_votes, "truth"), None
    if data is None:
        raise SommelierError("score: no truth; pass data= (a benchmark folder or Hub id) or "
                             "truth= (a table with id_str and <feature>_fraction columns)")
    from ..dataset.load import load_truth

    label = f"{data} {survey}/{split}"
    return truth_from_frame(load_truth(data, survey, split, revision), min_votes, label), label


def score(predictions: TableLike, truth: TableLike | None = None, *, data: str | None = None,
          survey: str = R.PRIMARY_SURVEY, split: str = R.PRIMARY_SPLIT,
          revision: str | None = None, min_votes: int = DEFAULT_MIN_VOTES,
          bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = 0, legacy: bool = False) -> Results:
    """Score a prediction table (DataFrame, mapping of arrays, or CSV/Parquet path: `id_str`
    plus the nine features) against `truth` (a table or path) or a split of `data`."""
    options = ScoreOptions(min_votes=min_votes, bootstrap=bootstrap, seed=seed, legacy=legacy)
    truth_table, truth_file = _truth(truth, data, survey, split, revision, min_votes)
    predictions_file = os.fspath(predictions) if isinstance(predictions, (str, os.PathLike)) \
        else None
    frame = as_frame(predictions, expected_rows=len(truth_table.ids))
    return Results(score_report(truth_table, truth_file, frame, predictions_file, options))
