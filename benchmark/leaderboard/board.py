"""The leaderboard's records: every verified entry scored here, grouped and ranked.

Every number comes from the benchmark: each verified entry is scored from its prediction files
against the truth of the dataset it names (a score kept in the local cache is reused only when
everything it depends on is unchanged); its own `results.json` is never read. Entries are
ranked by the primary metric (macro mean Pearson r on UKIDSS test) only against entries scored
on the same truth (same fingerprint, computed from the data: simulated and real never mix) and
of the same section (standard track, oracle track, UKIDSS-exposed). All entries on one truth
share the bootstrap draws, so a difference between two entries has a paired interval; an entry
is tied with the leader when that interval contains 0. Reported entries (published numbers, no
predictions) are listed apart, unranked. Outputs are pure functions of the entries and the
data, so regenerating without a change repeats the bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import registry as R
from ..errors import ValidationError
from ..evaluation.cache import lookup, score_key, store
from ..evaluation.entry import (EntryScore, TruthSource, entry_fingerprint, entry_truths,
                                named_dataset_truths, score_entry)
from ..evaluation.metrics import METRICS, percentile_interval
from ..evaluation.options import ScoreOptions
from ..evaluation.scoring import PRIMARY, evaluator_info
from ..evaluation.submission import METADATA_FILE, SECTIONS, Submission, load_submission
from .references import Reference, gap_closed, references

PRIMARY_TEXT = (f"macro mean Pearson r over the {len(R.BENCHMARK_FEATURES)} features on "
                f"{R.PRIMARY_SURVEY.upper()} {R.PRIMARY_SPLIT}")
TIE_TEXT = "the 95% interval of its paired difference to the leader contains 0"
QUESTION_TEXT = (f"macro r over the {len(R.BENCHMARK_QUESTIONS)} questions (each question's "
                 f"answers averaged first, so the binary questions count once, not twice)")


@dataclass(frozen=True)
class Comparison:
    """One entry's primary metric minus another's, with the 95% interval of that difference
    over the bootstrap draws both share."""

    difference: float | None
    ci: tuple[float, float] | None

    @property
    def tied(self) -> bool:
        return self.ci is not None and self.ci[0] <= 0.0 <= self.ci[1]

    def to_json(self) -> dict[str, Any]:
        return {"difference": self.difference, "ci": self.ci}

    def reversed(self) -> "Comparison":
        """b minus a."""
        return Comparison(None if self.difference is None else -self.difference,
                          None if self.ci is None else (-self.ci[1], -self.ci[0]))


@dataclass(frozen=True)
class Ranked:
    """A verified entry with what the leaderboard shows of its score."""

    sub: Submission
    dataset: str  # the name the entry gives
    truth: str  # fingerprint of the UKIDSS test truth it was scored on
    primary: float | None
    ci: tuple[float, float] | None
    std: float | None
    question_macro: dict[str, Any]  # pearson_r, ci
    features: dict[str, dict[str, Any]]  # feature -> pearson_r, ci, n
    macro: dict[str, Any]
    worst_feature: str | None
    id_to_ood: dict[str, float | None]  # ID survey -> change of macro r
    paired: dict[str, Any]  # optical survey -> paired consistency (evaluation.gap)
    warnings: int
    evaluator: str
    replicates: np.ndarray | None = field(default=None, compare=False, repr=False)
    rank: int = 0
    versus_leader: Comparison | None = None
    #: share of the floor-to-vote-noise-ceiling gap closed, and its interval
    gap_closed: tuple[float | None, tuple[float, float] | None] = (None, None)

    @property
    def tied(self) -> bool:
        return self.versus_leader is not None and self.versus_leader.tied


@dataclass(frozen=True)
class Group:
    """Entries scored on the same truth data, one ranked list per section, and the paired
    comparison of every two of them."""

    names: tuple[str, ...]
    fingerprint: str
    tracks: dict[str, list[Ranked]]
    pairwise: list[tuple[str, str, Comparison]]  # (slug a, slug b, a minus b)
    references: list[Reference] = field(default_factory=list)


@dataclass(frozen=True)
class Board:
    groups: list[Group]
    reported: list[Submission]
    scores: dict[Path, EntryScore]  # entry folder -> its score (what results.json holds)


def _interval(ci: Any) -> tuple[float, float] | None:
    return (ci[0], ci[1]) if ci else None


def _ranked(sub: Submission, score: EntryScore) -> Ranked:
    """What the board shows of one entry's score."""
    results = score.results
    primary = results["primary"]
    ood = results["evaluations"][f"{R.PRIMARY_SURVEY}/{R.PRIMARY_SPLIT}"]["summary"]
    question = ood["question_macro"]
    return Ranked(
        sub=sub, dataset=str(results["dataset"]["name"]),
        truth=str(results["dataset"]["fingerprint"]), primary=primary["value"],
        ci=_interval(primary.get("ci")), std=primary.get("std"),
        question_macro={"pearson_r": question["pearson_r"],
                        "ci": _interval((question.get("ci") or {}).get("pearson_r"))},
        features={f: {"pearson_r": b["pearson_r"], "n": b["n"],
                      "ci": _interval((b.get("ci") or {}).get("pearson_r"))}
                  for f, b in ((f, ood["features"][f]) for f in R.BENCHMARK_FEATURES)},
        macro={m: ood["macro"][m] for m in METRICS},
        worst_feature=ood["worst_feature"]["feature"],
        id_to_ood={s: v["macro"]["pearson_r"] for s, v in results["id_to_ood"].items()},
        paired=results.get("paired", {}),
        warnings=len(results["warnings"]), evaluator=str(results["evaluator"]["version"]),
        replicates=score.primary_replicates)


def compare(a: Ranked, b: Ranked) -> Comparison:
    """a minus b on the primary metric, paired over the draws they share."""
    if a.primary is None or b.primary is None:
        return Comparison(None, None)
    difference = a.primary - b.primary
    if a.replicates is None or b.replicates is None:
        return Comparison(difference, None)
    lo, hi = percentile_interval(a.replicates - b.replicates)
    return Comparison(difference, None if np.isnan(lo) else (float(lo), float(hi)))


def _order(rows: list[Ranked]) -> list[Ranked]:
    """Rank by primary metric (best first, undefined last; equal values by name), each row
    compared with the leader."""
    best_first = -1.0 if METRICS[PRIMARY["metric"]].higher_is_better else 1.0
    rows = sorted(rows, key=lambda r: (r.primary is None, best_first * (r.primary or 0.0),
                                       r.sub.name.lower(), r.sub.slug))
    leader = rows[0]
    return [replace(r, rank=i, versus_leader=None if i == 1 else compare(r, leader))
            for i, r in enumerate(rows, 1)]


def _locate(dataset: str, data_root: Path | None) -> str:
    """Where the dataset an entry names is: `data_root/<name>` when that folder exists (CI
    rebuilds the simulated datasets there), else the name itself (a folder or Hub id)."""
    if data_root is not None and (data_root / dataset).is_dir():
        return str(data_root / dataset)
    return dataset


def score_named_dataset(sub: Submission, sources: dict[str, TruthSource],
                        data_root: Path | None, options: ScoreOptions) -> EntryScore:
    """The entry scored against the dataset it names: from the cache when nothing changed."""
    if sub.dataset is None:
        raise ValidationError(f"{sub.root / METADATA_FILE}: no 'dataset'; the leaderboard scores "
                              f"every verified entry against the dataset it names")
    location = _locate(sub.dataset, data_root)
    if location not in sources:
        sources[location] = named_dataset_truths(sub, location, options.min_votes,
                                                 "pass --data-root, a folder holding it")
    truths = entry_truths(sub, sources[location])
    fingerprint = entry_fingerprint(sub.root)  # reads every prediction file: once
    key = score_key(fingerprint, truths, options, sub.dataset)
    score = lookup(key)
    if score is None:
        score = score_entry(sub, truths, options, sub.dataset, fingerprint)
        store(key, score)
    return score


def collect(submissions: str | os.PathLike, *, data_root: str | os.PathLike | None = None,
            options: ScoreOptions = ScoreOptions()) -> Board:
    """Read and score every entry folder under `submissions` (a folder without
    submission.yaml is an error, never skipped)."""
    root = Path(submissions)
    if not root.is_dir():
        raise ValidationError(f"{root}: no such submissions folder")
    data = None if data_root is None else Path(data_root)
    sources: dict[str, TruthSource] = {}
    located: dict[str, str] = {}  # truth fingerprint -> where its dataset is
    grouped: dict[str, list[Ranked]] = {}
    reported, scores = [], {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        sub = load_submission(folder)
        if sub.status == "reported":
            reported.append(sub)
            continue
        scores[sub.root] = score_named_dataset(sub, sources, data, options)
        row = _ranked(sub, scores[sub.root])
        grouped.setdefault(row.truth, []).append(row)
        located.setdefault(row.truth, _locate(sub.dataset, data))
    groups = [_group(truth, rows, references(sources[located[truth]], options))
              for truth, rows in grouped.items()]
    groups.sort(key=lambda g: (-sum(map(len, g.tracks.values())), g.names, g.fingerprint))
    return Board(groups, sorted(reported, key=lambda s: (s.name.lower(), s.slug)), scores)


def _group(truth: str, rows: list[Ranked], refs: list[Reference]) -> Group:
    rows = [replace(r, gap_closed=gap_closed(r.primary, r.replicates, refs)) for r in rows]
    tracks = {t.name: _order([r for r in rows if r.sub.track == t.name])
              for t in SECTIONS if any(r.sub.track == t.name for r in rows)}
    ordered = [r for ranked in tracks.values() for r in ranked]
    pairwise = [(a.sub.slug, b.sub.slug, compare(a, b))
                for i, a in enumerate(ordered) for b in ordered[i + 1:]]
    return Group(tuple(sorted({r.dataset for r in rows})), truth, tracks, pairwise, refs)


# --- JSON --------------------------------------------------------------------------------

def entry_json(row: Ranked) -> dict[str, Any]:
    return {"rank": row.rank, "tied_with_leader": row.tied, **row.sub.metadata(),
            "primary": {"value": row.primary, "ci": row.ci, "std": row.std},
            "versus_leader": None if row.versus_leader is None else row.versus_leader.to_json(),
            "question_macro": row.question_macro,
            "gap_closed": {"share": row.gap_closed[0], "ci": row.gap_closed[1]},
            "features": row.features, "macro": row.macro, "worst_feature": row.worst_feature,
            "id_to_ood_macro_pearson_r": row.id_to_ood,
            "paired": {s: {"galaxies": p["galaxies"], "seeds": p["seeds"], "macro": p["macro"]}
                       for s, p in row.paired.items()},
            "warnings": row.warnings,
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
            "question_macro": QUESTION_TEXT,
            "metrics": {m.name: {"label": m.label, "description": m.description,
                                 "higher_is_better": m.higher_is_better}
                        for m in METRICS.values()},
            "groups": [{"dataset": {"names": list(g.names),
                                    "revisions": sorted({n.partition("@")[2] for n in g.names
                                                         if "@" in n}),
                                    "fingerprint": g.fingerprint},
                        "tracks": {t: [entry_json(r) for r in rows]
                                   for t, rows in g.tracks.items()},
                        "pairwise": [{"a": a, "b": b, **c.to_json()} for a, b, c in g.pairwise],
                        "references": [r.to_json() for r in g.references]}
                       for g in board.groups],
            "reported": [reported_json(s) for s in board.reported]}
