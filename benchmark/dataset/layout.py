"""The benchmark dataset's layout: file names, columns and the surveys/splits it defines.

Layout (Hugging Face Hub style, one config per survey):
    README.md                                  dataset card; YAML `configs` name the shards
    data/<survey>/<split>-00000-of-00004.parquet
    identity.json                              the identity audit (links, near misses, coverage)
    croissant.json                             Croissant 1.0 metadata of the same folder
    MANIFEST.sha256                            sha256 of every file above, verified on download
Columns: `id_str` (benchmark-wide unique), `survey`, `source_id`, `group_id` (one physical
galaxy across surveys), `ra`/`dec` (nullable), `image` (`datasets.Image`), and for every
registry feature `{feature}_fraction` (float32, null where not asked), `{feature}_count`
(int32, null where the upstream release has no such answer) and per question
`{question}_total_votes` (int32).
"""

from __future__ import annotations

from .. import registry as R
from ..errors import SommelierError

DATA_DIR = "data"
MANIFEST = "MANIFEST.sha256"
META_COLUMNS: tuple[str, ...] = ("id_str", "survey", "source_id", "group_id", "ra", "dec")
IMAGE_COLUMN = "image"


def label_columns(features: tuple[str, ...] = R.ALL_FEATURES) -> list[str]:
    """Fraction and count columns of `features`, then total votes of their questions."""
    cols = [R.fraction_column(f) for f in features] + [R.count_column(f) for f in features]
    return cols + [R.total_votes_column(q) for q in R.questions_of(features)]


def shard_glob(survey: str, split: str) -> str:
    return f"{DATA_DIR}/{survey}/{split}-*.parquet"


def check_split(survey: str, split: str) -> None:
    """Refuse a survey/split the benchmark does not define, naming the valid ones."""
    if survey not in R.SURVEYS:
        raise SommelierError(f"unknown survey {survey!r}; choose from {', '.join(R.SURVEYS)}")
    if split not in R.SURVEYS[survey].splits:
        raise SommelierError(f"survey {survey!r} has no split {split!r}; it has "
                             f"{', '.join(R.SURVEYS[survey].splits)}")
