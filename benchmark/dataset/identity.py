"""Link every row read into physical galaxies, and audit how: the numbers behind the claim
that no UKIDSS test galaxy is in training.

Evidence and components are `crossmatch`'s; this module decides what is reported (links per
survey pair and method, separations, near misses, rows without coordinates, within-survey
duplicates) and how much of the unseen survey was matched to the survey that holds all of its
galaxies. A coverage below the minimum means the leakage of a build is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import registry as R
from ..tables import markdown_table
from .crossmatch import SURVEY_RANK, group_ids, map_links, map_name, sky_pairs

#: Near misses: unlinked pairs closer than this many match radii.
NEAR_MISS_FACTOR = 3.0
#: The separation histogram covers 0 to this many arcsec in bins of HISTOGRAM_BIN_ARCSEC.
HISTOGRAM_ARCSEC = 10.0
HISTOGRAM_BIN_ARCSEC = 0.5
#: The audit's file in the dataset folder, beside the card.
IDENTITY_FILE = "identity.json"
#: Default share of the unseen survey's galaxies that must be matched (`--min-coverage`).
DEFAULT_MIN_COVERAGE = 0.99


@dataclass
class Identity:
    """The group of every row, the rows whose identity could not be established, and the
    audit written to `identity.json`."""

    group_id: pd.Series
    unknown: pd.Series  # True: no evidence could tie this row to its views in other surveys
    audit: dict[str, Any]

    def short(self) -> list[dict[str, Any]]:
        """Coverage records below their minimum (share None: not measurable)."""
        return [c for c in self.audit["coverage"] if c["share"] is None or c["share"] < c["minimum"]]


def _pair_name(surveys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    left, right = surveys[a], surveys[b]
    swap = np.array([SURVEY_RANK[x] > SURVEY_RANK[y] for x, y in zip(left, right)], dtype=bool)
    first, second = np.where(swap, right, left), np.where(swap, left, right)
    return np.array([f"{x}-{y}" for x, y in zip(first, second)], dtype=object)


def _map_edges(rows: pd.DataFrame, id_maps: list[pd.DataFrame]
               ) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, int]]:
    position = pd.Series(np.arange(len(rows)), index=rows["id_str"].to_numpy())
    position = position[~position.index.duplicated()]
    known = set(position.index)
    edges, counts = [], {}
    for k, id_map in enumerate(id_maps):
        pairs = map_links(id_map, known)
        counts[map_name(k, id_map)] = len(pairs)
        if pairs:
            left, right = zip(*pairs)
            edges.append((position[list(left)].to_numpy(), position[list(right)].to_numpy()))
    return edges, counts


def _per_survey(surveys: pd.Series) -> dict[str, int]:
    counts = surveys.value_counts()
    return {s: int(counts[s]) for s in R.SURVEYS if s in counts}


def _histogram(names: np.ndarray, arcsec: np.ndarray) -> dict[str, Any]:
    edges = np.arange(0, HISTOGRAM_ARCSEC + HISTOGRAM_BIN_ARCSEC / 2, HISTOGRAM_BIN_ARCSEC)
    counts = {name: np.histogram(arcsec[names == name], bins=edges)[0].tolist()
              for name in sorted(set(names))}
    return {"bin_edges_arcsec": [round(float(e), 3) for e in edges], "counts": counts}


def _uncovered(rows: pd.DataFrame, group: pd.Series) -> pd.Series:
    """Rows of an unseen survey whose group holds no row of its `covered_by` survey (when
    that survey was read): their optical views, if any, could not be found."""
    out = pd.Series(False, index=rows.index)
    read = set(rows["survey"])
    for survey in (s for s in read if R.SURVEYS[s].covered_by in read):
        by = rows["survey"] == R.SURVEYS[survey].covered_by
        mine = rows["survey"] == survey
        out |= mine & ~group.isin(set(group[by]))
    return out


def _coverage(rows: pd.DataFrame, uncovered: pd.Series, minimum: float) -> list[dict[str, Any]]:
    """For each unseen survey with a `covered_by` survey: how many of its rows share a group
    with a row of that survey; not measurable (share None) when that survey was not read."""
    read = set(rows["survey"])
    out = []
    for survey in (s for s in R.SURVEYS if s in read and R.SURVEYS[s].covered_by):
        by = R.SURVEYS[survey].covered_by
        mine = rows["survey"] == survey
        measured = by in read
        missing = uncovered[mine]
        out.append({"survey": survey, "by": by, "rows": int(mine.sum()),
                    "matched": int((~missing).sum()) if measured else None,
                    "share": round(float((~missing).mean()), 6) if measured else None,
                    "minimum": minimum,
                    "unmatched_examples": sorted(rows.loc[missing[missing].index, "id_str"])[:5]})
    return out


def link(rows: pd.DataFrame, id_maps: list[pd.DataFrame], radius_arcsec: float,
         min_coverage: float = DEFAULT_MIN_COVERAGE) -> Identity:
    """Groups of `rows` (columns id_str, survey, ra, dec) from the sky and the id maps."""
    reach = max(HISTOGRAM_ARCSEC, NEAR_MISS_FACTOR * radius_arcsec)
    sky = sky_pairs(rows, reach)
    surveys = rows["survey"].to_numpy(dtype=object)
    names = _pair_name(surveys, sky.a, sky.b)
    linked = sky.arcsec <= radius_arcsec
    map_edges, map_counts = _map_edges(rows, id_maps)
    edges = [(sky.a[linked], sky.b[linked]), *map_edges]
    group = group_ids(rows, (np.concatenate([e[0] for e in edges]), np.concatenate([e[1] for e in edges])))

    ids = rows["id_str"].to_numpy()
    groups = group.to_numpy()
    mapped = np.zeros(len(rows), dtype=bool)
    for left, right in map_edges:
        mapped[left] = mapped[right] = True
    located = (rows["ra"].notna() & rows["dec"].notna()).to_numpy()
    optical = ~rows["survey"].map(lambda s: R.SURVEYS[s].ood).to_numpy(dtype=bool)
    uncovered = _uncovered(rows, group)
    unknown = uncovered | pd.Series(optical & ~located & ~mapped, index=rows.index)
    near = ~linked & (sky.arcsec <= NEAR_MISS_FACTOR * radius_arcsec) & (groups[sky.a] != groups[sky.b])
    same_survey = surveys[sky.a] == surveys[sky.b]
    audit = {
        "match_radius_arcsec": radius_arcsec,
        "near_miss_arcsec": NEAR_MISS_FACTOR * radius_arcsec,
        "links": {**{f"sky {n}": int(c) for n, c in
                     zip(*np.unique(names[linked], return_counts=True))}, **map_counts},
        "rows_without_coordinates": _per_survey(rows.loc[~located, "survey"]),
        "within_survey_duplicates": _per_survey(pd.Series(surveys[sky.a[linked & same_survey]])),
        "separation_histogram": _histogram(names, sky.arcsec),
        "near_misses": [{"a": ids[i], "b": ids[j], "arcsec": round(float(d), 3)}
                        for i, j, d in sorted(zip(sky.a[near], sky.b[near], sky.arcsec[near]),
                                              key=lambda t: (t[2], ids[t[0]], ids[t[1]]))],
        "identity_unknown": _per_survey(rows.loc[unknown, "survey"]),
        "coverage": _coverage(rows, uncovered, min_coverage),
    }
    return Identity(group, unknown, audit)


#: Near misses listed in the card (identity.json has them all).
CARD_NEAR_MISSES = 10


def _coverage_line(c: dict[str, Any]) -> str:
    if c["share"] is None:
        return (f"**WARNING: {c['survey']} could not be matched: {c['by']}, the survey that holds "
                f"all of its galaxies, was not read. Its galaxies may also be in the optical "
                f"training splits: the leakage of this build is UNKNOWN.**")
    line = (f"{c['matched']} of {c['rows']} {c['survey']} galaxies ({c['share']:.2%}) share a group "
            f"with a {c['by']} galaxy (minimum {c['minimum']:.0%}).")
    if c["share"] < c["minimum"]:
        line = (f"**WARNING: only {c['share']:.2%} of {c['survey']} galaxies were matched to "
                f"{c['by']} (built with --allow-unmatched). The other {c['rows'] - c['matched']} "
                f"may have optical views in the training splits: the leakage of this build is "
                f"UNKNOWN.** " + line)
    return line


def identity_markdown(audit: dict[str, Any]) -> str:
    """The card's identity section: coverage first (what the no-leakage claim rests on), then
    how the links were found, duplicates, rows without coordinates and near misses."""
    links = markdown_table([[k, n] for k, n in audit["links"].items()], ["evidence", "links"])
    duplicates = ", ".join(f"{s}: {n}" for s, n in audit["within_survey_duplicates"].items()) or "none"
    located = ", ".join(f"{s}: {n}" for s, n in audit["rows_without_coordinates"].items()) or "none"
    near = audit["near_misses"]
    near_table = markdown_table([[m["a"], m["b"], m["arcsec"]] for m in near[:CARD_NEAR_MISSES]],
                        ["row", "row", "arcsec"])
    return "\n\n".join([
        *(_coverage_line(c) for c in audit["coverage"]),
        f"All rows read, before any quality check, are linked into galaxies: every pair within "
        f"{audit['match_radius_arcsec']} arcsec on the sky (across surveys and within one), and "
        f"every pair of ids in a row of an id map.",
        links,
        f"Within-survey duplicates (pairs of one survey's rows within the radius, kept in one "
        f"group): {duplicates}. Rows without coordinates (linked by id maps only): {located}.",
        f"Near misses (unlinked pairs between {audit['match_radius_arcsec']} and "
        f"{audit['near_miss_arcsec']} arcsec): {len(near)}"
        + (f"; the closest {min(len(near), CARD_NEAR_MISSES)}:" if near else "."),
        *([near_table] if near else []),
        "`identity.json` holds all of these, every near miss and the separation histogram "
        f"(0-{HISTOGRAM_ARCSEC:g} arcsec, per survey pair).",
    ])
