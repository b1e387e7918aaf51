"""A checkpoint's predictions as a submission entry, through the benchmark's own entry writer
(`benchmark.evaluation.writer`), which owns the format and checks it on write."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from benchmark import registry as R
from benchmark.errors import SommelierError
from benchmark.evaluation.predictions import ID_COLUMN


def prediction_table(ids: np.ndarray, features: tuple[str, ...],
                     fractions: np.ndarray) -> pd.DataFrame:
    """`id_str` + the nine benchmark features of a model's outputs, clipped to [0, 1]."""
    missing = [f for f in R.BENCHMARK_FEATURES if f not in features]
    if missing:
        raise SommelierError(f"the model does not predict {', '.join(missing)}")
    columns = {f: np.clip(fractions[:, features.index(f)], 0, 1).astype("float64")
               for f in R.BENCHMARK_FEATURES}
    return pd.DataFrame({ID_COLUMN: pd.Series(ids, dtype=str), **columns})


def describe(meta: dict[str, Any], dataset: str) -> dict[str, Any]:
    """submission.yaml fields of a checkpoint (its metadata holds the run's config)."""
    config = meta["run"]["config"]
    entry = config["entry"]
    info = {
        "name": entry["name"],
        "authors": list(entry["authors"]),
        "url": entry["url"],
        "model": meta["model"],
        "pretraining": meta["pretraining"],
        "training_surveys": list(config["data"]["mix"]),
        "parameters": int(meta["parameters"]),
        "saw_ukidss": bool(entry.get("saw_ukidss", False)),
        "dataset": dataset,
    }
    if entry["notes"]:
        info["notes"] = entry["notes"]
    return info
