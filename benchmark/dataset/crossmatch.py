"""Which rows of different surveys are the same physical galaxy.

Surveys with coordinates are cross-matched on the sky (astropy); surveys without (the UKIDSS
release has none) need an id map. Links from both are joined into connected components, and each
component is one `group_id`: the id of its first member in registry survey order, so ids are
stable when unrelated galaxies are added.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import registry as R
from ..errors import SommelierError
from ..tables import read_table, table_kind


@dataclass
class Links:
    """Pairs of benchmark ids that are the same galaxy, with how they were found."""

    pairs: list[tuple[str, str]]
    by_method: dict[str, int]


def sky_links(left: pd.DataFrame, right: pd.DataFrame, radius_arcsec: float) -> list[tuple[str, str]]:
    """Each `right` galaxy linked to its nearest `left` galaxy within the radius."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    left = left.dropna(subset=["ra", "dec"])
    right = right.dropna(subset=["ra", "dec"])
    if left.empty or right.empty:
        return []
    lc = SkyCoord(left["ra"].to_numpy() * u.deg, left["dec"].to_numpy() * u.deg)
    rc = SkyCoord(right["ra"].to_numpy() * u.deg, right["dec"].to_numpy() * u.deg)
    index, separation, _ = rc.match_to_catalog_sky(lc)
    close = separation.arcsec <= radius_arcsec
    return list(zip(left["id_str"].to_numpy()[index[close]], right["id_str"].to_numpy()[close]))


def read_id_map(path: str | os.PathLike) -> pd.DataFrame:
    """An id map with every cell as text (null where blank). Ids are never numbers: pandas
    reads a column with one blank cell as float, and 587722981741363294 becomes
    5.877229817413633e+17, which matches nothing."""
    path = Path(path)
    if table_kind(path) in (".csv", ".csv.gz"):
        frame = read_table(path, what="id map", text=True)
    else:
        frame = read_table(path, what="id map")
        floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
        if floats:
            raise SommelierError(f"id map {path}: column(s) {', '.join(floats)} hold floats, "
                                 f"which lose the digits of long ids; store ids as text")
    return normalise_id_map(frame)


def normalise_id_map(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as stripped text; blank cells (and pandas' own 'nan') as null."""
    out = frame.astype("string").apply(lambda c: c.str.strip())
    return out.mask(out.isna() | out.isin(["", "nan", "NaN", "None", "<NA>"]))


def map_links(id_map: pd.DataFrame, known: set[str]) -> list[tuple[str, str]]:
    """Links from an id map whose columns are survey names holding upstream source ids: every
    two non-empty cells of a row are the same galaxy, whatever the column order."""
    surveys = [c for c in id_map.columns if c in R.SURVEYS]
    pairs = []
    for a, b in itertools.combinations(surveys, 2):
        for left, right in id_map[[a, b]].dropna().itertuples(index=False):
            ids = R.make_id(a, str(left)), R.make_id(b, str(right))
            if ids[0] in known and ids[1] in known:
                pairs.append(ids)
    return pairs


def find_links(rows: pd.DataFrame, id_maps: list[pd.DataFrame], radius_arcsec: float) -> Links:
    """All cross-survey links among `rows` (columns id_str, survey, ra, dec)."""
    by_survey = {s: g for s, g in rows.groupby("survey", sort=False)}
    located = [s for s in R.SURVEYS if s in by_survey and by_survey[s]["ra"].notna().any()]
    pairs: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    for i, a in enumerate(located):
        for b in located[i + 1:]:
            found = sky_links(by_survey[a], by_survey[b], radius_arcsec)
            counts[f"sky match {a}-{b}"] = len(found)
            pairs += found
    known = set(rows["id_str"])
    for k, id_map in enumerate(id_maps):
        found = map_links(id_map, known)
        counts[f"id map {k + 1} ({'-'.join(c for c in id_map.columns if c in R.SURVEYS)})"] = len(found)
        pairs += found
    return Links(pairs, counts)


def group_ids(ids: list[str], pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Connected components of the link graph; each named by its first member in id order
    (survey prefixes sort in registry order through `_order`)."""
    parent = {i: i for i in ids}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            keep, drop = sorted((ra, rb), key=_order)
            parent[drop] = keep
    return {i: root(i) for i in ids}


_SURVEY_RANK = {s: k for k, s in enumerate(R.SURVEYS)}


def _order(id_str: str) -> tuple[int, str]:
    survey = id_str.split(":", 1)[0]
    return _SURVEY_RANK.get(survey, len(_SURVEY_RANK)), id_str


def overlap_counts(rows: pd.DataFrame) -> dict[str, int]:
    """How many groups hold a member of each combination of surveys."""
    members = rows.groupby("group_id")["survey"].agg(lambda s: "+".join(sorted(set(s), key=_SURVEY_RANK.get)))
    return {k: int(v) for k, v in members.value_counts().sort_index().items()}


def unmatched_surveys(rows: pd.DataFrame, id_maps: list[pd.DataFrame]) -> list[str]:
    """Surveys with neither coordinates nor an id map: their leakage cannot be checked."""
    mapped = {c for m in id_maps for c in m.columns if c in R.SURVEYS}
    out = []
    for survey, group in rows.groupby("survey", sort=False):
        if group["ra"].isna().all() and survey not in mapped:
            out.append(survey)
    return sorted(out, key=_SURVEY_RANK.get)


