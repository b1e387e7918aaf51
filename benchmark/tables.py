"""Read and write the plain tables (CSV or Parquet) that flow between stages."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .atomic import atomic_path
from .errors import SommelierError

TABLE_SUFFIXES = (".csv", ".parquet")
#: What `read_table` also reads: upstream catalogues are often published gzipped.
READABLE_SUFFIXES = (".csv.gz", *TABLE_SUFFIXES)


def table_kind(path: Path) -> str | None:
    """The readable suffix `path` ends with (`.csv.gz` counts as one), or None."""
    return next((s for s in READABLE_SUFFIXES if path.name.lower().endswith(s)), None)


def read_table(path: str | os.PathLike, *, what: str = "table",
               text: bool = False, ids: tuple[str, ...] = ("id_str",)) -> pd.DataFrame:
    """Read a CSV or Parquet file, turning every failure into a clear `SommelierError`;
    `text`: every CSV column as strings, else only the `ids` columns (ids must not become
    floats: one blank cell would turn 587722981741363294 into 5.877229817413633e+17)."""
    path = Path(path)
    kind = table_kind(path)
    if kind is None:
        raise SommelierError(f"{what} {path}: unsupported file type {path.suffix!r}; "
                             f"use one of {', '.join(READABLE_SUFFIXES)}")
    if not path.is_file():
        raise SommelierError(f"{what} {path}: no such file")
    try:
        if kind != ".parquet":  # pandas unzips .csv.gz itself
            return pd.read_csv(path, dtype=str if text else dict.fromkeys(ids, str),
                               keep_default_na=True)
        return pd.read_parquet(path)
    except Exception as exc:  # any parser failure is bad input, not a bug
        raise SommelierError(f"{what} {path}: cannot be read as {kind[1:]} "
                             f"({type(exc).__name__}: {exc})") from exc


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write CSV or Parquet by suffix, atomically."""
    path = Path(path)
    if path.suffix not in TABLE_SUFFIXES:
        raise SommelierError(f"{path}: unsupported file type {path.suffix!r}; "
                             f"use one of {', '.join(TABLE_SUFFIXES)}")
    with atomic_path(path) as tmp:
        if path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)


def markdown_table(rows: list[list], headers: list[str]) -> str:
    """A GitHub Markdown table of a dataset card, or "(none)" for no rows (an empty table
    would render as a bare header)."""
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="github") if rows else "(none)"
