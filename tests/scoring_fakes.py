"""Small truth tables, prediction tables and entries for the evaluator and leaderboard tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from benchmark.dataset import load
from benchmark import registry as R
from tests.fakes import fake_labels, write_fake_benchmark

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
            "date": "2025-01-31", "status": "verified", "saw_ukidss": False, "dataset": "fake"}
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


# --- A small evaluated leaderboard ----------------------------------------------------------

HOSTILE = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(2)>'
REPORTED = {"source": "a paper | with a pipe", "caveats": ["leakage", "flattened r"],
            "pearson_r": {"smooth": 0.8, "featured_or_disk": 0.8, "artifact": 0.5,
                          "edge_on_yes": 0.7, "edge_on_no": 0.6, "bar_yes": 0.5, "bar_no": 0.4,
                          "spiral_yes": 0.6, "spiral_no": 0.5},
            "pooled": {"pearson_r": 0.81}}


def leaderboard_entries() -> dict[str, tuple[dict, str, float]]:
    """slug -> (metadata, dataset, prediction noise). On "real": three standard entries of
    falling quality (the best one has a hostile name and author; parameter counts in another
    order than the ranking) and one oracle-track entry; one entry on "simulated"."""
    return {
        "strong": (metadata(name=HOSTILE, authors=[ATTRIBUTE], dataset="real",
                            parameters=25_000_000), "real", 0.05),
        "close": (metadata(name="Close second $x$", dataset="real"), "real", 0.055),
        "weak": (metadata(name="Weak", dataset="real", parameters=3_000_000), "real", 0.4),
        "oracle": (metadata(name="Oracle pick", model_selection="ood-validation",
                            dataset="real"), "real", 0.2),
        "sim": (metadata(name="Simulated only", dataset="simulated"), "simulated", 0.01),
    }


def data_root(submissions: Path) -> Path:
    """Where `write_leaderboard_submissions` puts the datasets its entries name."""
    return submissions.parent / "data"


def write_leaderboard_submissions(root: Path) -> Path:
    """`root/submissions`: the `leaderboard_entries()` plus one reported entry, with the fake
    datasets they name ("real", "simulated") under `data_root(...)`."""
    subs, data = root / "submissions", root / "data"
    for seed, name in ((1, "real"), (2, "simulated")):
        write_fake_benchmark(data / name, {("ukidss", "test"): 150}, seed=seed)
    truths = {name: load.load_truth(str(data / name), "ukidss", "test")
              for name in ("real", "simulated")}
    for slug, (meta, dataset, noise) in leaderboard_entries().items():
        write_entry(subs / slug, meta, {
            "ukidss-test-seed0.parquet": predictions_for(truths[dataset], noise, seed=3)})
    write_entry(subs / "study", metadata(name="Study <b>reported</b>", status="reported",
                                         seeds=None, parameters=None, reported=REPORTED), {})
    return subs
