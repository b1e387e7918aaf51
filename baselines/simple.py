"""The simple baselines every benchmark needs, run through the same train/predict commands.

- `constant`: each feature's mean vote fraction over the training galaxies (surveys weighted
  by their share of the mix, only galaxies asked the question). The floor any model must beat.
- `linear-probe`: ridge regression from frozen backbone embeddings (computed once, cached on
  disk) to vote fractions, in closed form, one question at a time (its answers share the same
  galaxies, so the fitted answers of a question sum to 1). The ridge strength is chosen per
  question on the in-distribution validation split. The result is an ordinary regressor
  checkpoint whose head is one linear layer, so it predicts through the same code path.
Both run in one process.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from benchmark.atomic import atomic_path
from benchmark.errors import SommelierError

from .checkpoint import read_tensors, save_checkpoint
from .config import HeadConfig
from .data import Pool, SplitData, default_cache_dir, load_training_data
from .distributed import Processes, single
from .inference import over_pool
from .model import GalaxyRegressor, architecture, new_model, save_model
from .run import Run, claim, make_record

EMBED_BATCH = 64


def fit_constant(run: Run) -> Path:
    data = load_training_data(run.config, run.data, run.seed, image_size=None)
    record = make_record(run, data.loaded)
    claim(run, record, write=True)
    means = [np.nanmean(part.labels.fractions, axis=0) for part in data.train.parts]
    weights = np.where(np.isnan(means), 0.0, np.asarray(data.shares)[:, None])
    fractions = np.nansum(np.asarray(means) * weights, axis=0) / weights.sum(0)
    features = run.config.feature_names
    meta = {"kind": "constant", "run": record, "features": list(features),
            "model": "constant: mean training vote fraction per feature", "pretraining": "none",
            "parameters": len(features)}
    tensors = {"fractions": torch.from_numpy(fractions.astype(np.float32))}
    return save_checkpoint(run.out / "best", tensors, meta)


class ConstantPredictor:
    """Predicts the stored fractions for every galaxy."""

    image_size = None  # needs no pixels

    def __init__(self, checkpoint: Path):
        self.fractions = read_tensors(checkpoint)["fractions"].numpy()

    def predict(self, split: SplitData, processes: Processes, batch_size: int,
                num_workers: int) -> np.ndarray:
        return np.tile(self.fractions, (len(split), 1))


def fit_linear_probe(run: Run) -> Path:
    config = run.config
    data = load_training_data(config, run.data, run.seed, config.model.image_size)
    record = make_record(run, data.loaded)
    claim(run, record, write=True)
    linear = HeadConfig(hidden=(), norm="none", dropout=0.0)
    model = new_model(config, run.seed, head=linear, output="clip")
    processes = single()
    model.to(processes.device).eval()
    cache = EmbeddingCache(model, processes, Path(config.data.cache_dir or default_cache_dir()))
    train_x, train_w = cache.design(data.train, data.shares)
    val_pool = Pool(tuple(p.parts[0] for p in data.validation.values()))
    val_x, val_w = cache.design(val_pool, data.shares)
    weight, bias, chosen = ridge(model, train_x, data.train.fractions, train_w,
                                 val_x, val_pool.fractions, val_w, config.probe.alphas)
    head = model.head[-1]
    head.weight.data.copy_(torch.from_numpy(weight))
    head.bias.data.copy_(torch.from_numpy(bias))
    described = f"ridge regression on frozen {architecture(model.spec)} embeddings"
    meta = {"kind": "linear-probe", "run": record, "model": described, "ridge_alphas": chosen}
    return save_model(run.out / "best", model.cpu(), meta)


class EmbeddingCache:
    """Frozen-backbone embeddings of splits, on disk under `<cache>/embeddings/`, keyed by the
    backbone's weights, the pooling and the split's decoded rows."""

    def __init__(self, model: GalaxyRegressor, processes: Processes, cache: Path):
        self.model, self.processes, self.folder = model, processes, cache / "embeddings"
        digest = hashlib.sha256(json.dumps(model.spec.to_dict()).encode())
        for name, tensor in sorted(model.backbone.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
        self.backbone_key = digest.hexdigest()

    def embeddings(self, split: SplitData) -> np.ndarray:
        digest = hashlib.sha256(f"{self.backbone_key}/{split.images.path.name}".encode())
        digest.update(split.images.rows.tobytes())
        path = self.folder / f"{digest.hexdigest()[:32]}.safetensors"
        if not path.is_file():
            model = self.model
            values = over_pool(lambda b: model.embed(model.prepare(b["images"])),
                               Pool((split,)), EMBED_BATCH, self.processes,
                               desc=f"embed {split.name}")
            with atomic_path(path) as tmp:
                save_file({"embeddings": values.contiguous()}, str(tmp))
        return load_file(str(path))["embeddings"].double().numpy()

    def design(self, pool: Pool, shares: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of a pool's parts, and each row's weight (share / rows of its part)."""
        xs = [self.embeddings(part) for part in pool.parts]
        weights = [np.full(len(x), share / len(x)) for x, share in zip(xs, shares)]
        return np.concatenate(xs), np.concatenate(weights)


def ridge(model: GalaxyRegressor, x: np.ndarray, y: np.ndarray, w: np.ndarray,
          val_x: np.ndarray, val_y: np.ndarray, val_w: np.ndarray,
          alphas: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Weighted ridge per question (on the galaxies asked it), every alpha of the grid, then
    per question the alpha whose final outputs (`model.fractions`) fit validation best.
    Alphas are relative to the mean eigenvalue of the question's X'WX, so the grid is scale-free.
    """
    layout = model.layout
    solvers = [_ridge_solver(x, y, w, s, q) for q, s in zip(layout.questions, layout.slices)]
    fits, errors = [], []
    for alpha in alphas:
        weight = np.zeros((len(layout.features), x.shape[1]))
        bias = np.zeros(len(layout.features))
        for s, solve in zip(layout.slices, solvers):
            weight[s], bias[s] = solve(alpha)
        logits = torch.from_numpy(val_x @ weight.T + bias)
        squared = (model.fractions(logits).double().numpy() - val_y) ** 2
        errors.append([_weighted_mean(squared[:, s], val_w) for s in layout.slices])
        fits.append((weight, bias))
    best = np.argmin(np.asarray(errors), axis=0)
    weight, bias = np.zeros_like(fits[0][0]), np.zeros_like(fits[0][1])
    for s, index in zip(layout.slices, best):
        weight[s], bias[s] = fits[index][0][s], fits[index][1][s]
    chosen = {q: alphas[i] for q, i in zip(layout.questions, best)}
    return weight.astype(np.float32), bias.astype(np.float32), chosen


def _ridge_solver(x: np.ndarray, y: np.ndarray, w: np.ndarray, s: slice, question: str):
    """alpha -> (coefficients, intercepts) of one question, from one eigendecomposition."""
    rows = ~np.isnan(y[:, s.start])
    if not rows.any():
        raise SommelierError(f"no training galaxy was asked {question!r}: no probe for it")
    xq, yq, wq = x[rows], y[rows, s], w[rows]
    x_mean, y_mean = np.average(xq, 0, wq), np.average(yq, 0, wq)
    root = np.sqrt(wq)[:, None]
    xc, yc = (xq - x_mean) * root, (yq - y_mean) * root
    eigval, eigvec = np.linalg.eigh(xc.T @ xc)
    projected = eigvec.T @ (xc.T @ yc)
    scale = max(eigval.mean(), 1e-12)

    def solve(alpha: float) -> tuple[np.ndarray, np.ndarray]:
        coef = eigvec @ (projected / (eigval + alpha * scale)[:, None])
        return coef.T, y_mean - x_mean @ coef

    return solve


def _weighted_mean(squared: np.ndarray, weights: np.ndarray) -> float:
    """Mean squared error of one question over the galaxies asked it."""
    rows = ~np.isnan(squared[:, 0])
    return float(np.average(squared[rows].sum(1), weights=weights[rows]))
