"""The benchmark dataset: its layout and the one API to load it (local folder or Hub id).

Layout (Hugging Face Hub style, one config per survey):
    README.md                                  dataset card; YAML `configs` name the shards
    data/<survey>/<split>-00000-of-00004.parquet
    MANIFEST.sha256                            sha256 of every file above, verified on download
Columns: `id_str` (benchmark-wide unique), `survey`, `source_id`, `group_id` (one physical
galaxy across surveys), `ra`/`dec` (nullable), `image` (`datasets.Image`), and for every
registry feature `{feature}_fraction` (float32, null where not asked), `{feature}_count`
(int32, null where the upstream release has no such answer) and per question
`{question}_total_votes` (int32).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd

from . import registry as R
from .errors import SommelierError
from .hub_layout import quiet_datasets

DATA_DIR = "data"
MANIFEST = "MANIFEST.sha256"
META_COLUMNS: tuple[str, ...] = ("id_str", "survey", "source_id", "group_id", "ra", "dec")
IMAGE_COLUMN = "image"


def label_columns(features: tuple[str, ...] = R.ALL_FEATURES) -> list[str]:
    """Fraction and count columns of `features`, then total votes of their questions."""
    cols = [R.fraction_column(f) for f in features] + [R.count_column(f) for f in features]
    return cols + [R.total_votes_column(q) for q in R.questions_of(features)]


def shard_path(survey: str, split: str, index: int, count: int) -> str:
    return f"{DATA_DIR}/{survey}/{split}-{index:05d}-of-{count:05d}.parquet"


def shard_glob(survey: str, split: str) -> str:
    return f"{DATA_DIR}/{survey}/{split}-*.parquet"


def check_split(survey: str, split: str) -> None:
    """Refuse a survey/split the benchmark does not define, naming the valid ones."""
    if survey not in R.SURVEYS:
        raise SommelierError(f"unknown survey {survey!r}; choose from {', '.join(R.SURVEYS)}")
    if split not in R.SURVEYS[survey].splits:
        raise SommelierError(f"survey {survey!r} has no split {split!r}; it has "
                             f"{', '.join(R.SURVEYS[survey].splits)}")


def cache_options(data: str) -> dict:
    """`load_dataset` options that keep a local folder's cache apart from other folders'.

    `datasets` keys the cache of a local folder by its card and file names, not by content, so
    a rebuilt or another folder with the same card would be served stale rows. A cache folder
    named by every file's path, size and mtime makes any change a new cache.
    """
    folder = Path(data)
    if not folder.is_dir():
        return {}
    stamp = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        info = path.stat()
        stamp.update(f"{path.relative_to(folder)}|{info.st_size}|{info.st_mtime_ns}\n".encode())
    base = Path(os.environ.get("HF_DATASETS_CACHE", Path.home() / ".cache" / "huggingface" / "datasets"))
    return {"cache_dir": str(base / "galaxy-sommelier-local" / stamp.hexdigest()[:20])}


def load_split(data: str, survey: str, split: str, *, revision: str | None = None,
               columns: list[str] | None = None):
    """`datasets.load_dataset(data, survey, split=split)`: `data` is a folder or a Hub id."""
    check_split(survey, split)
    import datasets  # heavy: only when data is actually loaded

    try:
        with quiet_datasets(Path(data).is_dir()):
            return datasets.load_dataset(data, survey, split=split, revision=revision,
                                         columns=columns, **cache_options(data))
    except (FileNotFoundError, ValueError, datasets.exceptions.DatasetNotFoundError) as exc:
        raise SommelierError(f"cannot load {survey}/{split} from {data!r}: {exc}") from exc


def load_truth(data: str, survey: str, split: str, *, revision: str | None = None) -> pd.DataFrame:
    """Labels of one split without images: what the evaluator scores against."""
    columns = list(META_COLUMNS) + label_columns()
    return load_split(data, survey, split, revision=revision, columns=columns).to_pandas()
