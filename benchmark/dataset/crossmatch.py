"""Which rows are the same physical galaxy.

All evidence goes into one graph over every row read (before any quality check): each pair of
rows within the match radius on the sky, across surveys and within one (a survey's duplicate
entries), and each pair of non-empty cells of an id-map row (the UKIDSS release has no
coordinates). Each connected component is one `group_id`: the id of its first member in
registry survey order, so ids are stable when unrelated galaxies are added.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import registry as R
from ..errors import SommelierError
from ..tables import read_table, table_kind


@dataclass
class SkyPairs:
    """Every pair of rows (positions `a` < `b` in the row table) closer than a reach, with
    their separation: the links are the pairs within the match radius, the rest near misses."""

    a: np.ndarray
    b: np.ndarray
    arcsec: np.ndarray


def sky_pairs(rows: pd.DataFrame, reach_arcsec: float) -> SkyPairs:
    """All pairs within `reach_arcsec` among rows with coordinates, in one KD-tree search
    (astropy), so a second counterpart within the radius and within-survey duplicates are
    found as well as the nearest cross-survey neighbour."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord, search_around_sky

    ra, dec = rows["ra"].to_numpy("float64"), rows["dec"].to_numpy("float64")
    located = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec))
    if len(located) < 2:
        return SkyPairs(*(np.empty(0, dtype=t) for t in ("int64", "int64", "float64")))
    coords = SkyCoord(ra[located] * u.deg, dec[located] * u.deg)
    i, j, separation, _ = search_around_sky(coords, coords, reach_arcsec * u.arcsec)
    keep = i < j
    order = np.lexsort((located[j[keep]], located[i[keep]]))
    return SkyPairs(located[i[keep]][order], located[j[keep]][order],
                    separation.arcsec[keep][order])


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


def map_name(k: int, id_map: pd.DataFrame) -> str:
    """How an id map's links are counted: `id map 2 (ukidss-sdss)`."""
    return f"id map {k + 1} ({'-'.join(c for c in id_map.columns if c in R.SURVEYS)})"


def group_ids(rows: pd.DataFrame, edges: tuple[np.ndarray, np.ndarray]) -> pd.Series:
    """The group of every row: connected components (scipy) of the links `edges` (row
    positions) plus rows sharing an id, each named by its first member in registry order."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ids = rows["id_str"].to_numpy()
    first = pd.Series(np.arange(len(ids))).groupby(ids, sort=False).transform("min").to_numpy()
    a = np.concatenate([edges[0], np.arange(len(ids))])
    b = np.concatenate([edges[1], first])
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(len(ids), len(ids)))
    _, label = connected_components(graph, directed=False)
    rank = rows["survey"].map(SURVEY_RANK).fillna(len(SURVEY_RANK)).to_numpy()
    by_order = np.lexsort((ids, rank))
    name = pd.Series(ids[by_order]).groupby(label[by_order], sort=False).first()
    return pd.Series(name.reindex(label).to_numpy(), index=rows.index, name="group_id")


#: Registry order of the surveys: group names and survey pairs are spelled in it.
SURVEY_RANK = {s: k for k, s in enumerate(R.SURVEYS)}


def overlap_counts(rows: pd.DataFrame) -> dict[str, int]:
    """How many groups hold a member of each combination of surveys."""
    members = rows.groupby("group_id")["survey"].agg(lambda s: "+".join(sorted(set(s), key=SURVEY_RANK.get)))
    return {k: int(v) for k, v in members.value_counts().sort_index().items()}
