"""A submission entry: `submission.yaml` plus `predictions/<survey>-<split>-seed<k>.parquet`.

The format is the evaluator's contract: each prediction file has `id_str` and the nine
benchmark features in [0, 1]; `submission.yaml` describes the model. Predicting another seed
(or split) into an existing entry adds to it; it refuses an entry that describes another model.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from benchmark import registry as R
from benchmark.atomic import atomic_path, write_text
from benchmark.errors import SommelierError

SUBMISSION = "submission.yaml"
PREDICTIONS = "predictions"
MODEL_SELECTION = "training-domain"  # early stopping on the in-distribution validation split
# Keys that identify what an entry is; seeds, files and the date may grow over time.
IDENTITY = ("name", "model", "pretraining", "training_surveys", "model_selection",
            "parameters", "dataset")


def prediction_path(entry: Path, survey: str, split: str, seed: int) -> Path:
    return entry / PREDICTIONS / f"{survey}-{split}-seed{seed}.parquet"


def write_predictions(entry: Path, survey: str, split: str, seed: int, ids: np.ndarray,
                      features: tuple[str, ...], fractions: np.ndarray) -> Path:
    """One prediction file: `id_str` + the nine benchmark features, clipped to [0, 1]."""
    missing = [f for f in R.BENCHMARK_FEATURES if f not in features]
    if missing:
        raise SommelierError(f"the model does not predict {', '.join(missing)}")
    columns = {f: np.clip(fractions[:, features.index(f)], 0, 1).astype("float64")
               for f in R.BENCHMARK_FEATURES}
    frame = pd.DataFrame({"id_str": pd.Series(ids, dtype=str), **columns})
    path = prediction_path(entry, survey, split, seed)
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    return path


def describe(meta: dict[str, Any], dataset: str, seed: int) -> dict[str, Any]:
    """submission.yaml of one seed of a checkpoint (its metadata holds the run's config)."""
    config = meta["run"]["config"]
    entry = config["entry"]
    info = {
        "name": entry["name"],
        "authors": list(entry["authors"]),
        "url": entry["url"],
        "model": meta["model"],
        "pretraining": meta["pretraining"],
        "training_surveys": list(config["data"]["mix"]),
        "model_selection": MODEL_SELECTION,
        "seeds": [seed],
        "parameters": int(meta["parameters"]),
        "date": datetime.date.today().isoformat(),
        "status": "verified",
        "dataset": dataset,
    }
    if entry["notes"]:
        info["notes"] = entry["notes"]
    return info


def write_submission(entry: Path, info: dict[str, Any]) -> Path:
    """Write submission.yaml, merging seeds into an existing entry of the same model."""
    path = entry / SUBMISSION
    if path.is_file():
        old = yaml.safe_load(path.read_text()) or {}
        differ = [k for k in IDENTITY if old.get(k) != info[k]]
        if differ:
            raise SommelierError(f"{entry} holds another entry ({', '.join(differ)} differ); "
                                 "predict into a new --entry folder")
        info = {**old, **info, "seeds": sorted(set(old.get("seeds", [])) | set(info["seeds"]))}
    write_text(path, yaml.safe_dump(info, sort_keys=False, allow_unicode=True))
    return path
