"""Write a valid entry from tables: `submission.yaml` + `predictions/`, torch-free.

Everything is checked before anything is written, with the very checks `evaluate` runs (the
metadata fields, the file names and seeds, each table's columns, ids and values; the ids
against the split's truth when `data` is given). The entry folder is replaced in one rename,
so a failure leaves the previous entry as it was. Writing another seed (or split) of the same
model into an existing entry adds to it; an entry that describes another model is refused.
"""

from __future__ import annotations

import datetime
import os
import shutil
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import yaml

from .. import registry as R
from ..atomic import atomic_directory, write_text
from ..errors import ValidationError
from .predictions import ID_COLUMN, align, check_predictions, read_predictions
from .submission import (FIELDS, METADATA_FILE, PREDICTIONS_DIR, RESULTS_FILE, STANDARD_SELECTION,
                         Submission, check_metadata, check_slug, prediction_files,
                         prediction_name)

#: Fields that say what an entry is; seeds, files and the date may grow over time.
IDENTITY = ("name", "model", "pretraining", "training_surveys", "model_selection",
            "parameters", "dataset")

TableLike = pd.DataFrame | Mapping[str, Any] | str | os.PathLike


def as_frame(table: TableLike, where: str = "predictions",
             expected_rows: int | None = None) -> pd.DataFrame:
    """A prediction table from a DataFrame, a mapping of columns to arrays, or a file path
    (read with `read_predictions`, which refuses more than `expected_rows` before decoding)."""
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, (str, os.PathLike)):
        return read_predictions(table, expected_rows)
    if isinstance(table, Mapping):
        try:
            return pd.DataFrame({str(k): np.asarray(v) if k != ID_COLUMN else list(v)
                                 for k, v in table.items()})
        except ValueError as exc:
            raise ValidationError(f"{where}: the columns cannot form one table ({exc}); give "
                                  f"every column one value per galaxy") from None
    raise ValidationError(f"{where}: expected a DataFrame, a mapping of column -> array or a "
                          f"CSV/Parquet path, not {type(table).__name__}")


def _split_key(key: str) -> tuple[str, str]:
    from ..dataset.layout import check_split

    survey, sep, split = str(key).partition("/")
    if not sep:
        raise ValidationError(f"predictions key {key!r}: write it survey/split, e.g. "
                              f"{R.PRIMARY_SURVEY}/{R.PRIMARY_SPLIT}")
    check_split(survey, split)
    return survey, split


def _merged(entry: Path, info: dict[str, Any]) -> dict[str, Any]:
    """`info` merged into the entry already at `entry` (seeds joined), if it is the same model."""
    path = entry / METADATA_FILE
    if not path.is_file():
        return info
    old = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    differ = [k for k in IDENTITY if old.get(k) != info.get(k)]
    if differ:
        raise ValidationError(f"{entry} holds another entry ({', '.join(differ)} differ); write "
                              f"into a new entry folder")
    return {**old, **info, "seeds": sorted(set(old.get("seeds", [])) | set(info["seeds"]))}


def write_entry(entry: str | os.PathLike, predictions: Mapping[str, TableLike], *,
                seed: int = 0, data: str | None = None, **metadata: Any) -> Submission:
    """Write (or add a seed to) an entry folder and return its checked metadata.

    `predictions` maps `survey/split` (at least `ukidss/test`) to a table of `id_str` and the
    nine features; `metadata` gives the submission.yaml fields (`name`, `authors`, `model`,
    `pretraining`, `training_surveys`, `parameters`, ...; `status` defaults to verified,
    `model_selection` to training-domain, `date` to today, `url` to none). With `data` (a
    benchmark folder or Hub id) the ids are also checked against each split's truth.
    """
    root = Path(entry)
    slug = check_slug(root.resolve().name, str(root))
    info = {"url": None, "model_selection": STANDARD_SELECTION, "status": "verified",
            "date": datetime.date.today().isoformat(), **metadata, "seeds": [seed]}
    if data is not None:
        info.setdefault("dataset", data)
    info = _merged(root, info)
    values = check_metadata(info, f"{root / METADATA_FILE}")
    info = {k: info[k] for k in FIELDS if k in info}  # the documented field order
    tables = {}
    for key, table in predictions.items():
        survey, split = _split_key(key)
        where = f"predictions[{key!r}]"
        checked = check_predictions(as_frame(table, where), where)
        if data is not None:
            align(checked, pd.Index(split_ids(data, survey, split)), where)
        tables[prediction_name(survey, split, seed)] = checked
    with atomic_directory(root) as tmp:
        if root.is_dir():
            shutil.copytree(root, tmp, dirs_exist_ok=True)
            (tmp / RESULTS_FILE).unlink(missing_ok=True)  # scored on other files: stale now
        (tmp / PREDICTIONS_DIR).mkdir(exist_ok=True)
        for name, frame in tables.items():
            frame.to_parquet(tmp / PREDICTIONS_DIR / name, index=False)
        write_text(tmp / METADATA_FILE, yaml.safe_dump(info, sort_keys=False, allow_unicode=True))
        prediction_files(Submission(slug=slug, root=tmp, **values))  # names, seeds, required split
    return Submission(slug=slug, root=root, **values)


def split_ids(data: str, survey: str, split: str, revision: str | None = None) -> list[str]:
    """The ids of one split, read without its labels or images."""
    from ..dataset.load import load_split

    return list(load_split(data, survey, split, revision, columns=[ID_COLUMN])[ID_COLUMN])


def sample_submission(data: str, survey: str = R.PRIMARY_SURVEY, split: str = R.PRIMARY_SPLIT,
                      revision: str | None = None) -> pd.DataFrame:
    """Every id of the split with a valid constant prediction (each answer of a question
    equally likely), the shape a prediction file must have."""
    ids = split_ids(data, survey, split, revision)
    constant = {a: 1.0 / len(q.answers) for q in map(R.QUESTION_BY_NAME.get,
                                                      R.BENCHMARK_QUESTIONS) for a in q.answers}
    return pd.DataFrame({ID_COLUMN: ids,
                         **{f: np.full(len(ids), constant[f]) for f in R.BENCHMARK_FEATURES}})
