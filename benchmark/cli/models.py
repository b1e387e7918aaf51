"""The reference models as the command line runs them: the one module of `benchmark` that
imports `baselines` (torch, transformers), and only when a model is trained or run, so
`sommelier --help` and scoring stay light."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import numpy as np


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


def sweep(configs: list[str], seeds: list[int], data: str | None, *, launcher: str,
          out: str | Path, splits: list[str], **options: Any) -> list[Path]:
    """Train and predict every config x seed on a launcher; returns the collected entries."""
    from baselines.sweep import Options, sweep as run

    return run(configs, seeds, data, launcher=launcher, out=out, splits=splits,
               options=Options(**options))


def image_predictor(checkpoint: str | Path,
                    batch_size: int = 64) -> Callable[[np.ndarray], np.ndarray]:
    """A checkpoint as a function of images, (B, S, S, 3) uint8 -> (B, 9) vote fractions of
    the benchmark features: how a study that renders its own images (`sommelier attribute`)
    runs a model. Images of another size than the model's are resized as `baselines.images`
    resizes decoded JPEGs."""
    import tempfile

    import numpy as np
    from baselines.data import ImageStore, SplitData
    from baselines.distributed import single
    from baselines.kinds import load_predictor

    from .. import registry as R
    from ..errors import SommelierError

    predictor, meta = load_predictor(Path(checkpoint))
    features = list(meta["features"])
    missing = [f for f in R.BENCHMARK_FEATURES if f not in features]
    if missing:
        raise SommelierError(f"{checkpoint}: the model does not predict {', '.join(missing)}")
    columns = [features.index(f) for f in R.BENCHMARK_FEATURES]
    processes = single()

    def predict(images: np.ndarray) -> np.ndarray:
        ids = np.arange(len(images)).astype(str)
        with tempfile.TemporaryDirectory(prefix="sommelier-images-") as folder:
            store = None
            if predictor.image_size:
                path = Path(folder) / "images.npy"
                np.save(path, _resized(images, predictor.image_size))
                store = ImageStore(path)
            split = SplitData("images", ids, ids, None, store, "")
            return predictor.predict(split, processes, batch_size, 0)[:, columns]

    return predict


def _resized(images: np.ndarray, size: int) -> np.ndarray:
    """(B, S, S, 3) uint8 at `size` x `size` (antialiased bilinear, torch's uint8 path)."""
    if images.shape[1:3] == (size, size):
        return images
    import torch
    import torch.nn.functional as F

    batch = torch.from_numpy(images).permute(0, 3, 1, 2)
    resized = F.interpolate(batch, size=(size, size), mode="bilinear", antialias=True,
                            align_corners=False)
    return resized.permute(0, 2, 3, 1).contiguous().numpy()
