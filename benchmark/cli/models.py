"""The reference models as the command line runs them: the one module of `benchmark` that
imports `baselines` (torch, transformers), and only when a model is trained or run, so
`sommelier --help` and scoring stay light."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def train(config: str | Path, *, data: str | None = None, seed: int = 0,
          out: str | Path | None = None) -> Path:
    """Train (or resume) one reference baseline; returns its best checkpoint."""
    from baselines.train import train as run

    return run(config, data=data, seed=seed, out=out)


def predict(checkpoint: str | Path, data: str, splits: list[str], entry: str | Path,
            seed: int | None = None, **options: Any) -> list[Path]:
    """A checkpoint's predictions of `splits` written into a submission entry."""
    from baselines.predict import predict as run

    return run(checkpoint, data, splits, entry, seed, **options)
