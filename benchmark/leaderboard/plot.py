"""The per-feature comparison plot: Pearson r of every entry on each feature, with 95% intervals,
and the group's ceilings drawn as bars across each feature.

One panel per dataset (entries of different datasets are never drawn as comparable) and one for
reported entries (hollow markers). Drawn on a bare Agg canvas with matplotlib's default style
and no PNG software/date metadata, so the same board gives the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from .. import registry as R
from .board import Board

_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_LABEL_CHARS = 48
_DASHES = ("dashed", "dotted", "dashdot")  # reference rows (ceilings)


@dataclass(frozen=True)
class Series:
    label: str
    r: np.ndarray  # (9,), NaN where unknown
    ci: np.ndarray | None  # (2, 9)
    hollow: bool = False
    reference: bool = False  # drawn as a bar across each feature, not a marker


def _label(name: str, note: str = "") -> str:
    text = name if len(name) <= _LABEL_CHARS else name[:_LABEL_CHARS - 1] + "…"
    return f"{text} {note}".strip()


def _panels(board: Board) -> list[tuple[str, list[Series]]]:
    panels = []
    for group in board.groups:
        series = []
        for track, rows in group.tracks.items():
            for row in rows:
                r = np.array([np.nan if row.features[f]["pearson_r"] is None
                              else row.features[f]["pearson_r"] for f in R.BENCHMARK_FEATURES])
                cis = [row.features[f]["ci"] or (np.nan, np.nan) for f in R.BENCHMARK_FEATURES]
                ci = np.array(cis, dtype=float).T
                series.append(Series(_label(row.sub.name, f"(#{row.rank} {track})"), r, ci))
        series += [Series(ref.name, np.array([np.nan if ref.features[f] is None else
                                              ref.features[f] for f in R.BENCHMARK_FEATURES]),
                          None, reference=True)
                   for ref in group.references if ref.key != "floor"]
        panels.append((f"Dataset: {', '.join(group.names)}", series))
    if board.reported:
        panels.append(("Reported (as published; not verified)", [
            Series(_label(s.name, "(reported)"),
                   np.array([s.reported.pearson_r.get(f, np.nan) for f in R.BENCHMARK_FEATURES]),
                   None, hollow=True) for s in board.reported]))
    return panels


def per_feature_png(board: Board) -> bytes:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = _panels(board) or [("No entries yet", [])]
    features = R.BENCHMARK_FEATURES
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        matplotlib.rcParams["text.parse_math"] = False  # entry names are text, never TeX
        fig = Figure(figsize=(11, 0.8 + 3.6 * len(panels)), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
        x = np.arange(len(features))
        for ax, (title, series) in zip(axes, panels):
            marks = [s for s in series if not s.reference]
            for k, s in enumerate(s for s in series if s.reference):
                ax.hlines(s.r, x - 0.45, x + 0.45, colors="0.35", linestyles=_DASHES[k % 3],
                          linewidth=1.2, label=s.label)
            spread = min(0.3, 0.08 * (len(marks) - 1))  # entries side by side per feature
            offsets = np.linspace(-spread, spread, len(marks))
            for k, (s, dx) in enumerate(zip(marks, offsets)):
                color = f"C{k % 10}"
                yerr = None if s.ci is None else np.abs(s.ci - s.r)
                ax.errorbar(x + dx, s.r, yerr=yerr, fmt=_MARKERS[(k // 10) % len(_MARKERS)],
                            color=color, mfc="none" if s.hollow else color, capsize=2,
                            markersize=5, linewidth=1, label=s.label)
            ax.set_xticks(x, [f.replace("_", " ") for f in features])
            ax.set_xlim(-0.6, len(features) - 0.4)
            shown = np.concatenate([np.ravel(s.r if s.ci is None else s.ci) for s in series]
                                   + [np.zeros(1)])
            ax.set_ylim(np.nanmin(shown) - 0.05, 1.03)
            ax.set_ylabel("Pearson r (UKIDSS test)")
            ax.set_title(title, loc="left", fontsize=11)
            ax.grid(axis="y", alpha=0.3)
            for edge in x[:-1] + 0.5:
                ax.axvline(edge, color="0.9", linewidth=0.8)
            if series:
                ax.legend(fontsize=8, loc="lower left", ncols=2 if len(series) > 4 else 1)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
