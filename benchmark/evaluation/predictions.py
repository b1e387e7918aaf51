"""Prediction tables: the checks a file must pass before it is scored, and its alignment.

A prediction table has exactly the columns `id_str` + the nine benchmark features (plain names),
one row per galaxy of the truth table, every value a finite number in [0, 1]. Anything else is
refused with what is wrong, where (file, column, first offending id) and how to fix it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .. import registry as R
from ..errors import ValidationError
from ..tables import read_table

ID_COLUMN = "id_str"
PREDICTION_COLUMNS: tuple[str, ...] = (ID_COLUMN,) + R.BENCHMARK_FEATURES
#: A UKIDSS-sized CSV is about 12 MB; anything far larger is not a prediction file.
MAX_PREDICTION_BYTES = 128 * 1024 * 1024
#: Mean |sum of a question's answer fractions - 1| above which a file is flagged. Real
#: predictions stay under 0.08; swapping two answers of different questions goes past 0.15.
FRACTION_SUM_TOLERANCE = 0.15
_EXAMPLES = 3


def _examples(values) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:_EXAMPLES])
    return shown + (", ..." if len(values) > _EXAMPLES else "")


def _shape(path: Path) -> tuple[int, list[str]] | None:
    """(rows, column names) from the file's own metadata, without decoding its data: the
    Parquet footer, or a CSV's header and a count of its lines. None if it is unreadable (the
    reader then says why)."""
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata
            return meta.num_rows, list(meta.schema.to_arrow_schema().names)
        if path.suffix == ".csv":
            with path.open("rb") as f:
                header = f.readline(64 * 1024).decode("utf-8", "replace").strip()
                rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
            return rows, [c.strip().strip('"') for c in header.split(",")]
    except Exception:  # noqa: BLE001 (a broken file is reported by the full reader)
        return None
    return None


def read_predictions(path: str | os.PathLike, expected_rows: int | None = None) -> pd.DataFrame:
    """Read one prediction file. Its size, and (from metadata) its row and column counts, are
    checked first, so a huge or padded file is never decoded; `expected_rows` is the size of
    the split it predicts. The content is checked by `check_predictions`."""
    path = Path(path)
    if path.is_file() and path.stat().st_size > MAX_PREDICTION_BYTES:
        raise ValidationError(
            f"{path}: {path.stat().st_size / 2**20:.0f} MiB is over the "
            f"{MAX_PREDICTION_BYTES // 2**20} MiB limit for a prediction file; keep only the "
            f"columns {', '.join(PREDICTION_COLUMNS)} (Parquet is about half the size of CSV)")
    shape = _shape(path) if path.is_file() else None
    if shape is not None:
        rows, columns = shape
        if len(columns) > 2 * len(PREDICTION_COLUMNS):
            raise ValidationError(f"{path}: {len(columns)} columns; the columns must be exactly "
                                  f"{', '.join(PREDICTION_COLUMNS)}")
        if expected_rows is not None and rows > expected_rows:
            raise ValidationError(f"{path}: {rows:,} rows, but the split has {expected_rows:,} "
                                  f"galaxies; write one row per galaxy of the split")
    return read_table(path, what="predictions")


def _check_columns(frame: pd.DataFrame, where: str) -> None:
    names = [str(c) for c in frame.columns]
    missing = [c for c in PREDICTION_COLUMNS if c not in names]
    extra = [c for c in names if c not in PREDICTION_COLUMNS]
    duplicated = sorted({c for c in names if names.count(c) > 1})
    if not (missing or extra or duplicated):
        return
    problems = [f"{label} column(s) {_examples(cols)}" for label, cols in
                (("missing", missing), ("unexpected", extra), ("duplicated", duplicated)) if cols]
    hint = f"the columns must be exactly {', '.join(PREDICTION_COLUMNS)}"
    if any(c.startswith("Unnamed") or c == "index" for c in extra):
        hint += " (write the file without its index, e.g. to_csv(..., index=False))"
    elif any(c.endswith("_fraction") for c in extra):
        hint += " (plain feature names, not '<feature>_fraction' or upstream names)"
    raise ValidationError(f"{where}: {'; '.join(problems)}; {hint}")


def _check_ids(ids: pd.Series, where: str) -> None:
    text = pd.api.types.is_string_dtype(ids) or (
        ids.dtype == object and ids.dropna().map(lambda v: isinstance(v, str)).all())
    if not text:
        raise ValidationError(f"{where}: column {ID_COLUMN!r} must hold strings (dtype "
                              f"{ids.dtype}); write the benchmark's id_str values as text")
    blank = ids.isna() | (ids.astype("string").str.strip() == "")
    if blank.any():
        rows = np.flatnonzero(blank.to_numpy())
        raise ValidationError(f"{where}: {len(rows)} row(s) have an empty {ID_COLUMN} (first at "
                              f"row {rows[0] + 1}); every row needs the galaxy's id_str")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise ValidationError(f"{where}: {len(dup)} duplicate {ID_COLUMN} value(s), e.g. "
                              f"{_examples(dup.unique())}; give each galaxy exactly one row")


def _check_values(frame: pd.DataFrame, column: str, where: str) -> np.ndarray:
    col = frame[column]
    ids = frame[ID_COLUMN]

    def first(bad: np.ndarray) -> str:
        row = int(np.flatnonzero(bad)[0])
        return f"first at row {row + 1}, id {ids.iloc[row]!r}: {col.iloc[row]!r}"

    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        numbers = pd.to_numeric(col, errors="coerce") if not pd.api.types.is_bool_dtype(col) \
            else pd.Series(np.nan, index=col.index)
        bad = (numbers.isna() & col.notna()).to_numpy()
        detail = first(bad) if bad.any() else f"dtype {col.dtype}"
        raise ValidationError(f"{where}: column {column!r} must hold numbers in [0, 1] "
                              f"({detail}); write predicted fractions as floats")
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    for bad, what in ((np.isnan(values), "missing or NaN"), (np.isinf(values), "infinite")):
        if bad.any():
            raise ValidationError(f"{where}: column {column!r} has {int(bad.sum())} {what} "
                                  f"value(s) ({first(bad)}); predict a number for every galaxy")
    bad = (values < 0) | (values > 1)
    if bad.any():
        raise ValidationError(f"{where}: column {column!r} has {int(bad.sum())} value(s) outside "
                              f"[0, 1] ({first(bad)}); predictions are vote fractions (use a "
                              f"sigmoid or clip, not logits or percentages)")
    return values


def check_predictions(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The table with `id_str` as text and the features as float64, or a `ValidationError`."""
    _check_columns(frame, where)
    _check_ids(frame[ID_COLUMN], where)
    out = {ID_COLUMN: frame[ID_COLUMN].astype(str).to_numpy()}
    out.update({f: _check_values(frame, f, where) for f in R.BENCHMARK_FEATURES})
    return pd.DataFrame(out)


def align(frame: pd.DataFrame, truth_ids: pd.Index, where: str) -> np.ndarray:
    """Predictions (n_truth, 9) in the truth's row order; every truth id exactly once."""
    ids = pd.Index(frame[ID_COLUMN])  # unique: checked by `check_predictions`
    position = ids.get_indexer(truth_ids)
    missing = truth_ids[position < 0]
    # Every id found in the truth is used once, so the rest are unknown; listing them is
    # slow for string arrays and only needed when there are some.
    unknown = [] if len(ids) == len(truth_ids) - len(missing) else \
        ids[~ids.isin(truth_ids)]
    problems = []
    if len(missing):
        problems.append(f"{len(missing)} of {len(truth_ids)} galaxies of the truth have no "
                        f"prediction, e.g. {_examples(missing)} (predict every galaxy of the "
                        f"split)")
    if len(unknown):
        problems.append(f"{len(unknown)} id(s) are not in the truth, e.g. {_examples(unknown)} "
                        f"(ids must be the benchmark's id_str of this survey and split: is the "
                        f"file named for the right split?)")
    if problems:
        raise ValidationError(f"{where}: {'; '.join(problems)}")
    return frame[list(R.BENCHMARK_FEATURES)].to_numpy(dtype=np.float64)[position]


def fraction_sum_warnings(values: np.ndarray, where: str) -> list[str]:
    """Questions whose predicted answer fractions are far from summing to 1.

    Fractions of one question sum to 1 in the truth; predictions far from that usually mean
    columns were written in the wrong order (the original study once scored r = 0.244 so).
    """
    out = []
    for question in R.BENCHMARK_QUESTIONS:
        answers = R.QUESTION_BY_NAME[question].answers
        cols = [R.BENCHMARK_FEATURES.index(a) for a in answers]
        deviation = float(np.abs(values[:, cols].sum(axis=1) - 1.0).mean())
        if deviation > FRACTION_SUM_TOLERANCE:
            out.append(f"{where}: the answers of question {question!r} ({', '.join(answers)}) "
                       f"are {deviation:.3f} from summing to 1 on average (tolerance "
                       f"{FRACTION_SUM_TOLERANCE}); check that each column holds the fraction "
                       f"its name says (a column-order mistake looks like this)")
    return out
