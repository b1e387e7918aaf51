"""What `score` and `evaluate` print: a per-feature table of a summary, and the legacy table."""

from __future__ import annotations

import math
from typing import Any

from tabulate import tabulate

from .metrics import METRICS


def number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.{digits}f}"


def estimate(value: float | None, std: float | None = None, ci: list | None = None) -> str:
    """`value ± std [lo, hi]`, leaving out what is absent."""
    text = number(value)
    if std is not None:
        text += f" ± {number(std)}"
    if ci is not None:
        text += f" [{number(ci[0])}, {number(ci[1])}]"
    return text


def _cell(block: dict[str, Any], metric: str) -> str:
    return estimate(block[metric], (block.get("std") or {}).get(metric),
                     (block.get("ci") or {}).get(metric))


def summary_table(summary: dict[str, Any], tablefmt: str = "simple") -> str:
    """Rows: features then macro; columns: every metric (with ± seed std and [95% CI]);
    `tablefmt` as tabulate's (e.g. "github" for Markdown)."""
    blocks = list(summary["features"].items()) + [("macro", summary["macro"])]
    rows = [[name] + [_cell(block, m) for m in METRICS] + [block["n"]] for name, block in blocks]
    headers = ["feature"] + [METRICS[m].label for m in METRICS] + ["n"]
    primary, worst = summary["primary"], summary["worst_feature"]
    gap = "\n\n" if tablefmt == "github" else "\n"  # Markdown: the lines after are no row
    return (tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True) +
            f"{gap}primary ({primary['aggregate']} {primary['metric']}): "
            f"{estimate(primary['value'], primary.get('std'), primary['ci'])}"
            f"{gap}worst feature: {worst['feature']} (r = {number(worst['pearson_r'])})")


def legacy_table(legacy: dict[str, Any]) -> str:
    """The original study's numbers: per feature r/MSE/MAE, then the pooled ones."""
    rows = [[f, number(v["pearson_r"], 6), number(v["mse"], 6), number(v["mae"], 6)]
            for f, v in legacy["features"].items()]
    return (tabulate(rows, headers=["feature", "r", "MSE", "MAE"], disable_numparse=True) +
            f"\nlegacy pooled (flattened): r = {number(legacy['overall_r'], 6)}, "
            f"'R2' (= r^2) = {number(legacy['overall_r2'], 6)}, MAE = {number(legacy['mae'], 6)}, "
            f"MSE = {number(legacy['mse'], 6)}, n = {legacy['n']}")
