"""The leaderboard's records: every entry's results, grouped and ranked.

Verified entries are ranked by the primary metric (macro mean Pearson r on UKIDSS test) only
against entries scored on the same truth data (same fingerprint; simulated and real never mix)
and of the same track. An entry is marked tied with the leader when its 95% interval overlaps
the leader's. Reported entries (published numbers, no predictions) are listed apart, unranked.
Outputs are pure functions of the entries, so regenerating without a change repeats the bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import registry as R
from ..errors import ValidationError
from ..evaluation.entry import entry_fingerprint
from ..evaluation.metrics import METRICS
from ..evaluation.scoring import PRIMARY, evaluator_info
from ..evaluation.submission import (METADATA_FILE, RESULTS_FILE, TRACKS, Submission,
                                    load_submission)
from ..jsonfile import read_json

PRIMARY_TEXT = (f"macro mean Pearson r over the {len(R.BENCHMARK_FEATURES)} features on "
                f"{R.PRIMARY_SURVEY.upper()} {R.PRIMARY_SPLIT}")
TIE_TEXT = "its 95% interval overlaps the leader's"


@dataclass(frozen=True)
class Ranked:
    """A verified entry with what the leaderboard shows of its results."""

    sub: Submission
    dataset: str  # the name recorded at evaluation
    truth: str  # fingerprint of the UKIDSS test truth it was scored on
    primary: float | None
    ci: tuple[float, float] | None
    std: float | None
    features: dict[str, dict[str, Any]]  # feature -> pearson_r, ci
    macro: dict[str, Any]
    worst_feature: str | None
    id_to_ood: dict[str, float | None]  # ID survey -> change of macro r
    warnings: int
    evaluator: str
    rank: int = 0
    tied: bool = False


@dataclass(frozen=True)
class Group:
    """Entries scored on the same truth data, one ranked list per track."""

    names: tuple[str, ...]
    fingerprint: str
    tracks: dict[str, list[Ranked]]


@dataclass(frozen=True)
class Board:
    groups: list[Group]
    reported: list[Submission]


def _number(value: Any) -> float | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValueError(f"expected a number, got {value!r}")
    return value


def _interval(ci: Any) -> tuple[float, float] | None:
    return (_number(ci[0]), _number(ci[1])) if ci else None


def _ranked(sub: Submission, results: dict[str, Any]) -> Ranked:
    """What the board shows of one results.json; every value type-checked on the way."""
    primary = results["primary"]
    ood = results["evaluations"][f"{R.PRIMARY_SURVEY}/{R.PRIMARY_SPLIT}"]["summary"]
    features = {f: ood["features"][f] for f in R.BENCHMARK_FEATURES}
    worst = ood["worst_feature"]["feature"]
    return Ranked(
        sub=sub, dataset=str(results["dataset"]["name"]),
        truth=str(results["dataset"]["fingerprint"]), primary=_number(primary["value"]),
        ci=_interval(primary.get("ci")), std=_number(primary.get("std")),
        features={f: {"pearson_r": _number(b["pearson_r"]),
                      "ci": _interval((b.get("ci") or {}).get("pearson_r"))}
                  for f, b in features.items()},
        macro={m: _number(ood["macro"][m]) for m in METRICS},
        worst_feature=None if worst is None else str(worst),
        id_to_ood={str(s): _number(v["macro"]["pearson_r"])
                   for s, v in results["id_to_ood"].items()},
        warnings=len(results["warnings"]), evaluator=str(results["evaluator"]["version"]))


def _load_results(sub: Submission) -> Ranked:
    path = sub.root / RESULTS_FILE
    fix = f"run `sommelier evaluate {sub.root}`"
    if not path.is_file():
        raise ValidationError(f"{path}: no results for verified entry {sub.slug!r}; {fix}")
    results = read_json(path, what="results")
    try:
        if results["submission_fingerprint"] != entry_fingerprint(sub.root):
            raise ValidationError(f"{path}: stale, the entry's {METADATA_FILE} or predictions "
                                  f"changed after it was evaluated; {fix} again")
        return _ranked(sub, results)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ValidationError(f"{path}: malformed results ({type(exc).__name__}: {exc}); "
                              f"{fix} again") from exc


def _order(rows: list[Ranked]) -> list[Ranked]:
    """Rank by primary metric (best first, undefined last; equal values by name) and mark the
    entries tied with the leader."""
    best_first = -1.0 if METRICS[PRIMARY["metric"]].higher_is_better else 1.0
    rows = sorted(rows, key=lambda r: (r.primary is None, best_first * (r.primary or 0.0),
                                       r.sub.name.lower(), r.sub.slug))
    leader = rows[0]

    def tied(row: Ranked) -> bool:
        if row is leader or row.primary is None:
            return False
        if row.ci and leader.ci:
            return row.ci[1] >= leader.ci[0] and leader.ci[1] >= row.ci[0]
        return row.primary == leader.primary
    return [replace(r, rank=i, tied=tied(r)) for i, r in enumerate(rows, 1)]


def collect(submissions: str | os.PathLike) -> Board:
    """Read every entry folder under `submissions` (folders without submission.yaml: error)."""
    root = Path(submissions)
    if not root.is_dir():
        raise ValidationError(f"{root}: no such submissions folder")
    grouped: dict[str, list[Ranked]] = {}
    reported = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        sub = load_submission(folder)
        if sub.status == "reported":
            reported.append(sub)
        else:
            row = _load_results(sub)
            grouped.setdefault(row.truth, []).append(row)
    groups = [Group(tuple(sorted({r.dataset for r in rows})), truth,
                    {t.name: _order([r for r in rows if r.sub.track == t.name])
                     for t in TRACKS.values() if any(r.sub.track == t.name for r in rows)})
              for truth, rows in grouped.items()]
    groups.sort(key=lambda g: (-sum(map(len, g.tracks.values())), g.names, g.fingerprint))
    return Board(groups, sorted(reported, key=lambda s: (s.name.lower(), s.slug)))


# --- JSON --------------------------------------------------------------------------------

def entry_json(row: Ranked) -> dict[str, Any]:
    return {"rank": row.rank, "tied_with_leader": row.tied, **row.sub.metadata(),
            "primary": {"value": row.primary, "ci": row.ci, "std": row.std},
            "features": row.features, "macro": row.macro, "worst_feature": row.worst_feature,
            "id_to_ood_macro_pearson_r": row.id_to_ood, "warnings": row.warnings,
            "evaluator_version": row.evaluator}


def reported_json(sub: Submission) -> dict[str, Any]:
    rep = sub.reported
    return {**sub.metadata(), "reported": {
        "source": rep.source, "evaluated_on": rep.evaluated_on, "pearson_r": dict(rep.pearson_r),
        "macro_pearson_r": rep.macro_pearson_r, "pooled": dict(rep.pooled),
        "caveats": list(rep.caveats)}}


def board_json(board: Board) -> dict[str, Any]:
    return {"generated_by": evaluator_info(),
            "primary_metric": PRIMARY_TEXT, "tie_rule": TIE_TEXT,
            "metrics": {m.name: {"label": m.label, "description": m.description,
                                 "higher_is_better": m.higher_is_better}
                        for m in METRICS.values()},
            "groups": [{"dataset": {"names": list(g.names), "fingerprint": g.fingerprint},
                        "tracks": {t: [entry_json(r) for r in rows]
                                   for t, rows in g.tracks.items()}} for g in board.groups],
            "reported": [reported_json(s) for s in board.reported]}
