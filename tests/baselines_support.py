"""Shared helpers for the baselines tests: one small fake benchmark per test session and tiny
configs (a randomly initialised 2-layer DINOv2 on the fakes' 32 px images). Test modules
import the `bench` and `cache` fixtures from here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from baselines.config import Config, from_dict, load_config, merge
from tests.fakes import write_fake_benchmark

SIZES = {("sdss", "train"): 48, ("sdss", "validation"): 16, ("sdss", "test"): 12,
         ("decals", "train"): 32, ("decals", "validation"): 16, ("ukidss", "test"): 24}
TINY_BACKBONE = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                 "intermediate_size": 64, "patch_size": 8, "image_size": 32}


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    """The session's fake benchmark (written on first use)."""
    root = tmp_path_factory.getbasetemp() / "baselines-benchmark"
    if not (root / "README.md").is_file():
        write_fake_benchmark(root, SIZES)
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """Decoded images and embeddings, shared by the session's tests."""
    return tmp_path_factory.getbasetemp() / "baselines-cache"


def tiny_raw(cache: Path, **over: Any) -> dict[str, Any]:
    """tiny-cpu-sdss shrunk for tests, as a raw mapping (before validation)."""
    raw = load_config("tiny-cpu-sdss").to_dict()
    raw = merge(raw, {
        "name": "tiny-test",
        "model": {"backbone": {"source": None, "random": TINY_BACKBONE}, "image_size": 32,
                  "head": {"hidden": [16], "norm": "layer", "dropout": 0.0}},
        "data": {"sample": {}, "epoch_size": None, "max_validation": None, "cache_dir": str(cache)},
        "stages": [{"name": "head", "backbone": "frozen", "epochs": 1, "head_lr": 1e-2},
                   {"name": "finetune", "backbone": "full", "epochs": 2, "head_lr": 1e-2,
                    "backbone_lr": 1e-3}],
        "training": {"batch_size": 8, "patience": 5},
    })
    return merge(raw, over)


def tiny_config(cache: Path, **over: Any) -> Config:
    return from_dict(tiny_raw(cache, **over))


def write_config(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(raw))
    return path
