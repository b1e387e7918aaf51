"""Turn one upstream release's vote columns into the benchmark's canonical columns.

Everything is driven by the registry's naming schemes: a canonical answer may be the sum of
several upstream answers (DECaLS DR5 bar yes = strong + weak), totals may be published or be
the sum of the answer counts, and a release may publish only fractions (then counts are null).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import registry as R
from ..errors import SommelierError

#: Fractions may be rounded in upstream tables (Hart16 uses 3 decimals).
FRACTION_TOLERANCE = 0.02


def missing_columns(scheme: R.NamingScheme, columns: list[str]) -> list[str]:
    """The upstream columns of the benchmark features that a table lacks in `scheme`'s names
    (a feature counts as present with its fractions or with its counts)."""
    have = set(columns)
    missing: list[str] = []
    for feature in R.BENCHMARK_FEATURES:
        published = (scheme.fraction_columns(feature), scheme.count_columns(feature))
        if not any(cols and set(cols) <= have for cols in published):
            missing += [c for c in published[0] if c not in have]
    return missing


def detect_schemes(columns: list[str], candidates: tuple[str, ...] | None = None
                   ) -> list[R.NamingScheme]:
    """Every naming scheme in whose names all nine benchmark features are present, in registry
    order. All nine, not the first question alone: the GZD-5 and GZD-1/2 tables name their
    first question alike and differ in the bar answers, and a release without one of the
    benchmark questions must be refused rather than give that question silently empty labels."""
    names = candidates or tuple(R.NAMING_SCHEMES)
    return [R.NAMING_SCHEMES[n] for n in names if not missing_columns(R.NAMING_SCHEMES[n], columns)]


def unrecognised(columns: list[str], names: tuple[str, ...]) -> str:
    """Why no scheme of `names` fits: the columns the closest one lacks, or the first ones seen."""
    lacking = {n: missing_columns(R.NAMING_SCHEMES[n], columns) for n in names}
    closest = min(names, key=lambda n: len(lacking[n]))
    if len(lacking[closest]) < len(missing_columns(R.NAMING_SCHEMES[closest], [])):
        return f"closest is {closest}, which lacks {', '.join(lacking[closest])}"
    return f"columns start {', '.join(columns[:6])} ..."


def detect_scheme(columns: list[str], candidates: tuple[str, ...] | None = None) -> R.NamingScheme:
    """The one naming scheme whose benchmark-feature columns are all present."""
    names = candidates or tuple(R.NAMING_SCHEMES)
    found = detect_schemes(columns, names)
    if len(found) != 1:
        raise SommelierError(
            "cannot tell which Galaxy Zoo release this table is: expected the columns of the "
            f"nine benchmark features in the names of exactly one of {', '.join(names)}; found "
            f"{', '.join(s.name for s in found) or 'none'}"
            + ("" if found else f" ({unrecognised(columns, names)})"))
    return found[0]


def _sum(frame: pd.DataFrame, columns: tuple[str, ...], dtype: str) -> pd.Series | None:
    if not columns or not set(columns) <= set(frame.columns):
        return None
    total = frame[list(columns)].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=len(columns))
    return total.astype(dtype)


def harmonise_votes(frame: pd.DataFrame, scheme: R.NamingScheme) -> pd.DataFrame:
    """Canonical `{f}_fraction`, `{f}_count` and `{q}_total_votes` for every registry feature."""
    n = len(frame)
    out: dict[str, pd.Series] = {}
    for question in R.QUESTIONS:
        counts = {f: _sum(frame, scheme.count_columns(f), "Float64") for f in question.answers}
        total_col = scheme.total_column(question.name)
        if total_col is not None and total_col in frame.columns:
            total = pd.to_numeric(frame[total_col], errors="coerce").astype("Float64")
        elif all(c is not None for c in counts.values()):
            total = sum(c for c in counts.values())
        else:
            total = None
        for feature in question.answers:
            fraction = _sum(frame, scheme.fraction_columns(feature), "Float64")
            count = counts[feature]
            if fraction is None and count is not None and total is not None:
                fraction = count / total.where(total > 0)
            if fraction is not None and total is not None:
                fraction = fraction.where(total > 0)  # not asked: null, never 0
            out[R.fraction_column(feature)] = _typed(fraction, n, "float32")
            out[R.count_column(feature)] = _typed(count, n, "int32")
        out[R.total_votes_column(question.name)] = _typed(total, n, "int32")
    return pd.DataFrame(out, index=frame.index)


def _typed(values: pd.Series | None, n: int, dtype: str) -> pd.Series:
    nullable = {"float32": "Float32", "int32": "Int32"}[dtype]
    if values is None:
        return pd.Series(pd.array([pd.NA] * n, dtype=nullable))
    if dtype == "int32":
        values = values.round()
    return pd.Series(pd.array(values.to_numpy(dtype="float64", na_value=np.nan), dtype="float64"),
                     index=values.index).astype(nullable)


def impossible_votes(labels: pd.DataFrame) -> pd.Series:
    """Rows whose votes break the rules of the tree (negative, fractions outside [0, 1] or not
    summing to 1 within a question, counts above the question's total)."""
    bad = pd.Series(False, index=labels.index)
    for question in R.QUESTIONS:
        fractions = labels[[R.fraction_column(f) for f in question.answers]].astype("float64")
        counts = labels[[R.count_column(f) for f in question.answers]].astype("float64")
        total = labels[R.total_votes_column(question.name)].astype("float64")
        bad |= (fractions < -1e-6).any(axis=1) | (fractions > 1 + 1e-6).any(axis=1)
        bad |= (counts < 0).any(axis=1) | (total < 0)
        bad |= counts.sum(axis=1, min_count=1) > total + 0.5
        complete = fractions.notna().all(axis=1)
        sums = fractions.sum(axis=1)
        # only questions whose every answer is published can be checked for summing to 1
        bad |= complete & ((sums - 1).abs() > FRACTION_TOLERANCE)
    return bad


def harmonise_campaigns(frame: pd.DataFrame, schemes: list[R.NamingScheme]) -> pd.DataFrame:
    """Canonical votes of a table in the naming of one campaign or of several side by side
    (mwalmsley/gz_desi: -dr12, -dr5, -dr8, each galaxy voted on in one): every row takes the
    votes of the first campaign whose first question it has votes for."""
    first = R.total_votes_column(R.QUESTIONS[0].name)
    parts = [harmonise_votes(frame, scheme) for scheme in schemes]
    out = parts[0].copy()
    taken = (out[first].fillna(0) > 0).to_numpy()
    for part in parts[1:]:
        use = ~taken & (part[first].fillna(0) > 0).to_numpy()
        out.loc[use] = part.loc[use]
        taken |= use
    return out
