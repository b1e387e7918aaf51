"""Small truth tables, prediction tables and entries for the evaluator and leaderboard tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from benchmark import registry as R
from tests.fakes import fake_labels

FEATURES = list(R.BENCHMARK_FEATURES)


def truth_frame(n: int, seed: int = 0, survey: str = "ukidss") -> pd.DataFrame:
    """id_str + canonical label columns (fractions null where not asked, vote totals)."""
    labels = fake_labels(n, seed)
    ids = pd.Series([R.make_id(survey, f"s{seed}-{i:05d}") for i in range(n)], name="id_str")
    return pd.concat([ids, labels], axis=1)


def predictions_for(truth: pd.DataFrame, noise: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """Noisy but sensible predictions: truth (0.5 where not asked) + Gaussian noise, clipped."""
    rng = np.random.default_rng(seed)
    y = truth[[R.fraction_column(f) for f in FEATURES]].to_numpy(dtype=float, na_value=np.nan)
    p = np.clip(np.nan_to_num(y, nan=0.5) + rng.normal(0, noise, y.shape), 0, 1)
    return pd.DataFrame({"id_str": truth["id_str"].to_numpy(), **dict(zip(FEATURES, p.T))})


def metadata(**changes) -> dict:
    """A valid verified submission.yaml as a dict, with `changes` applied (None drops a key)."""
    meta = {"name": "Toy model", "authors": ["A. Tester"], "url": "https://example.org/toy",
            "model": "toy regressor", "pretraining": "none", "training_surveys": ["sdss"],
            "model_selection": "training-domain", "seeds": [0], "parameters": 1000,
            "date": "2025-01-31", "status": "verified", "dataset": "fake"}
    meta.update(changes)
    return {k: v for k, v in meta.items() if v is not None}


def write_entry(root: Path, meta: dict, predictions: dict[str, pd.DataFrame]) -> Path:
    """An entry folder: submission.yaml and predictions/<name> for each given table."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "submission.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    for name, frame in predictions.items():
        folder = root / "predictions"
        folder.mkdir(exist_ok=True)
        if name.endswith(".csv"):
            frame.to_csv(folder / name, index=False)
        else:
            frame.to_parquet(folder / name, index=False)
    return root
