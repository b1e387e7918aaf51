"""The baseline kinds a config can name (`kind:`): how each trains and how it predicts.

A kind is one entry: `fit(run) -> checkpoint folder` and `load(checkpoint) -> predictor`. The
checkpoint's own `kind` picks the predictor, so `predict` works on any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch

from .checkpoint import read_meta
from .data import Pool, SplitData
from .distributed import Processes
from .finetune import fit_dinov2
from .inference import autocast, over_pool
from .lookup import lookup
from .model import load_model
from .run import Run
from .simple import ConstantPredictor, fit_constant, fit_linear_probe


class Predictor(Protocol):
    image_size: int | None  # input size to decode images at; None: needs no images

    def predict(self, split: SplitData, processes: Processes, batch_size: int,
                num_workers: int) -> np.ndarray:
        """(N, K) vote fractions of the checkpoint's features, in split order."""


class RegressorPredictor:
    """Any checkpoint of a `GalaxyRegressor` (fine-tuned or linear probe)."""

    def __init__(self, checkpoint: Path):
        self.model, _ = load_model(checkpoint)
        self.image_size = self.model.spec.image_size

    def predict(self, split: SplitData, processes: Processes, batch_size: int,
                num_workers: int) -> np.ndarray:
        model = self.model.to(processes.device).eval()

        def fractions(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            with autocast(processes.device, bf16=True):
                logits = model(model.prepare(batch["images"]))
            return model.fractions(logits)

        return over_pool(fractions, Pool((split,)), batch_size, processes, num_workers,
                         desc=f"predict {split.name}").numpy()


@dataclass(frozen=True)
class Kind:
    fit: Callable[[Run], Path]
    load: Callable[[Path], Predictor]


KINDS: dict[str, Kind] = {
    "dinov2": Kind(fit_dinov2, RegressorPredictor),
    "linear-probe": Kind(fit_linear_probe, RegressorPredictor),
    "constant": Kind(fit_constant, ConstantPredictor),
}


def load_predictor(checkpoint: Path) -> tuple[Predictor, dict]:
    """The predictor of any checkpoint, with the checkpoint's metadata."""
    meta = read_meta(checkpoint)
    return lookup(KINDS, meta["kind"], "checkpoint kind").load(Path(checkpoint)), meta
