"""How fast a config trains, predicts and loads data on this machine: `python -m
baselines.throughput [CONFIG...]`.

For each config (default `throughput-dinov2-base`: DINOv2-base's shapes with random weights, so
no download is needed) it times, on synthetic data and the machine's best device (bf16 autocast
on GPUs, as the config says):
- training steps of each backbone mode the config's stages use (`frozen`: head only; `full`:
  everything), through the trainer's own step (normalise, augment, forward, loss, backward,
  clip, AdamW), in images/s;
- inference (what `predict` runs per batch), in images/s;
- the data loader's two jobs: the one-time JPEG decode of a split into the image cache (424 px
  galaxy-like JPEGs to the config's input size) and an epoch's batches read back from that
  cache. Per worker: what one DataLoader worker (one thread) sustains, timed in this process;
  then end to end through the real loaders with each number of workers (start-up included).
A GPU run of the reference configs is one command; `--json` keeps the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from benchmark.errors import SommelierError

from .config import Config, load_config
from .data import (DECODE_CHUNK, ImageStore, Labels, Plan, PlannedBatches, Pool, SplitData,
                   decode_to_cache, loader, train_batches)
from .distributed import best_device
from .finetune import BACKBONE_MODES, Step
from .images import Views, decode_batch
from .inference import autocast
from .losses import LOSSES
from .model import GalaxyRegressor, new_model

SOURCE_SIZE = 424  # Galaxy Zoo cutouts


@dataclass
class Report:
    config: str
    device: str
    bf16: bool
    batch_size: int
    image_size: int
    train: dict[str, float] = field(default_factory=dict)  # backbone mode -> images/s
    inference: float = 0.0  # images/s
    peak_memory_gib: float | None = None  # GPU only
    decode_per_worker: float = 0.0  # images/s of one worker, one thread
    batches_per_worker: float = 0.0
    decode: dict[int, float] = field(default_factory=dict)  # workers -> images/s, end to end
    epoch_loader: dict[int, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        precision = "bf16 autocast" if self.bf16 and self.device.startswith("cuda") else "fp32"
        out = [f"{self.config} on {self.device} ({precision}), batch {self.batch_size}, "
               f"{self.image_size} px"]
        out += [f"  train, {mode} backbone: {rate:,.1f} images/s" for mode, rate in self.train.items()]
        out.append(f"  inference: {self.inference:,.1f} images/s")
        if self.peak_memory_gib is not None:
            out.append(f"  peak GPU memory: {self.peak_memory_gib:.2f} GiB")
        out.append(f"  loader per worker (1 thread): decode {SOURCE_SIZE} px JPEGs "
                   f"{self.decode_per_worker:,.1f} images/s, epoch batches from the cache "
                   f"{self.batches_per_worker:,.1f} images/s")
        for what, rates in (("decode into the cache", self.decode),
                            ("epoch batches", self.epoch_loader)):
            out += [f"  loader end to end, {what}, {w} worker{'s' * (w != 1)}: {rate:,.1f} "
                    f"images/s" for w, rate in rates.items()]
        return out


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def images_per_s(fn: Callable[[], object], images: int, steps: int, warmup: int,
                 device: torch.device) -> float:
    """`images` over the median time of `steps` calls, after `warmup` untimed ones (the median:
    a shared machine's other jobs slow some calls down)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        synchronise(device)
        start = time.perf_counter()
        fn()
        synchronise(device)
        times.append(time.perf_counter() - start)
    return images / float(np.median(times))


def synthetic_batch(config: Config, device: torch.device, rng: np.random.Generator
                    ) -> dict[str, torch.Tensor]:
    """One training batch as the loader delivers it: uint8 images, views, labels and each
    galaxy's survey (the training surveys in turn)."""
    n, size, k = config.training.batch_size, config.model.image_size, len(config.feature_names)
    fractions = rng.dirichlet(np.ones(k), n).astype(np.float32)
    views = Views.draw(n, rng, config.data.augment.rotate, config.data.augment.flip)
    batch = {"images": torch.from_numpy(rng.integers(0, 256, (n, 3, size, size), np.uint8)),
             "angles": torch.from_numpy(views.angles), "flips": torch.from_numpy(views.flips),
             "fractions": torch.from_numpy(fractions),
             "counts": torch.from_numpy(np.round(fractions * 40)),
             "domains": torch.from_numpy(np.arange(n) % len(config.data.mix))}
    return {key: value.to(device) for key, value in batch.items()}


def train_rate(model: GalaxyRegressor, config: Config, mode: str, batch: dict[str, torch.Tensor],
               steps: int, warmup: int, device: torch.device) -> float:
    """Images/s of the trainer's step with the backbone in `mode` (frozen or full)."""
    stage = next(s for s in config.stages if s.backbone == mode)
    backbone_mode = BACKBONE_MODES[mode]
    optimizer = torch.optim.AdamW(backbone_mode.prepare(model, stage),
                                  weight_decay=config.training.weight_decay)
    model.train()
    if not backbone_mode.trains_backbone:
        model.backbone.eval()
    step = Step(model, model, optimizer, LOSSES[config.loss.name], config)
    return images_per_s(lambda: step(batch), len(batch["images"]), steps, warmup, device)


def inference_rate(model: GalaxyRegressor, config: Config, batch: dict[str, torch.Tensor],
                   steps: int, warmup: int, device: torch.device) -> float:
    """Images/s of a prediction batch, as `predict` runs it (bf16 on GPUs)."""
    model.eval()

    @torch.no_grad()
    def infer() -> torch.Tensor:
        with autocast(device, bf16=True):
            return model.fractions(model(model.prepare(batch["images"])))

    return images_per_s(infer, len(batch["images"]), steps, warmup, device)


def galaxy_jpeg(rng: np.random.Generator, size: int = SOURCE_SIZE) -> bytes:
    """A smooth elliptical light profile with sky noise, JPEG-compressed as cutouts are."""
    from PIL import Image

    y, x = np.mgrid[:size, :size] / size - 0.5
    angle, axis = rng.uniform(0, np.pi), rng.uniform(0.3, 1)
    radius = np.hypot(x * np.cos(angle) + y * np.sin(angle),
                      (y * np.cos(angle) - x * np.sin(angle)) / axis)
    light = np.exp(-radius / rng.uniform(0.03, 0.15))[..., None] * np.array([250, 200, 150])
    pixels = np.clip(light + rng.normal(0, 6, light.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def jpeg_split(jpegs: list[bytes]):
    """A datasets.Dataset of the JPEGs in the benchmark's image column."""
    import datasets

    from benchmark.dataset import layout as D

    cells = [{"bytes": jpeg, "path": None} for jpeg in jpegs]
    features = datasets.Features({D.IMAGE_COLUMN: datasets.Image()})
    return datasets.Dataset.from_dict({D.IMAGE_COLUMN: cells}, features=features)


def one_thread(fn: Callable[[], int]) -> float:
    """Images/s of `fn` (which returns how many images it handled) on one thread, as a
    DataLoader worker runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        done = fn()
        return done / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)


def decode_chunks(jpegs: list[bytes], size: int) -> int:
    """What decode workers do: `decode_batch` chunk by chunk."""
    for start in range(0, len(jpegs), DECODE_CHUNK):
        decode_batch(jpegs[start:start + DECODE_CHUNK], size)
    return len(jpegs)


def decode_rate(split, size: int, workers: int, cache: Path) -> tuple[float, ImageStore]:
    """Images/s of the one-time decode of `split` into a fresh image cache."""
    start = time.perf_counter()
    store = decode_to_cache(split, f"throughput/w{workers}", size, cache / f"w{workers}", workers)
    return len(split) / (time.perf_counter() - start), store


def epoch(store: ImageStore, config: Config) -> PlannedBatches:
    """One shuffled epoch over the cached images, batched as training reads them."""
    n, k = len(store), len(config.feature_names)
    labels = Labels(np.zeros((n, k), np.float32), np.zeros((n, k), np.float32), np.zeros(n, int))
    ids = np.arange(n).astype(str)
    pool = Pool((SplitData("throughput", ids, ids, labels, store, ""),))
    rng = np.random.default_rng(0)
    plan = Plan(rng.permutation(n), Views.draw(n, rng, True, True))
    return PlannedBatches(pool, plan, train_batches(n, config.training.batch_size, 0, 1))


def gather_all(batches: PlannedBatches) -> int:
    """What epoch workers do: gather each planned batch."""
    return sum(len(batches[i]["images"]) for i in range(len(batches)))


def epoch_rate(batches: PlannedBatches, workers: int, device: torch.device) -> float:
    """Images/s of one epoch's planned batches through the training loader onto the device."""
    start = time.perf_counter()
    for batch in loader(batches.pool, batches.plan, batches.batches, workers, device):
        batch["images"].to(device, non_blocking=True)
    synchronise(device)
    images = sum(len(b) for b in batches.batches)
    return images / (time.perf_counter() - start)


def measure(name: str, *, steps: int, warmup: int, workers: list[int], images: int,
            batch_size: int | None) -> Report:
    """Every figure of one config (LoRA stages are not timed: peft would wrap the model for
    good)."""
    config = load_config(name)
    if not config.stages:
        raise SommelierError(f"config {config.name!r} has no training stages to time")
    if batch_size is not None:
        config = replace(config, training=replace(config.training, batch_size=batch_size))
    device = best_device()
    report = Report(config.name, describe(device), config.training.bf16,
                    config.training.batch_size, config.model.image_size)
    rng = np.random.default_rng(0)
    batch = synthetic_batch(config, device, rng)
    model = new_model(config, seed=0).to(device)
    for mode in dict.fromkeys(s.backbone for s in config.stages if s.backbone != "lora"):
        report.train[mode] = train_rate(model, config, mode, batch, steps, warmup, device)
    report.inference = inference_rate(model, config, batch, steps, warmup, device)
    if device.type == "cuda":
        report.peak_memory_gib = torch.cuda.max_memory_allocated(device) / 2 ** 30
    jpegs = [galaxy_jpeg(rng) for _ in range(images)]
    split = jpeg_split(jpegs)
    report.decode_per_worker = one_thread(lambda: decode_chunks(jpegs, config.model.image_size))
    with tempfile.TemporaryDirectory(prefix="sommelier-throughput-") as cache:
        for w in workers:
            report.decode[w], store = decode_rate(split, config.model.image_size, w, Path(cache))
            report.epoch_loader[w] = epoch_rate(epoch(store, config), w, device)
        report.batches_per_worker = one_thread(lambda: gather_all(epoch(store, config)))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m baselines.throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="*", default=["throughput-dinov2-base"],
                        metavar="CONFIG", help="configs to measure (default throughput-dinov2-base)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--batch-size", type=int, help="override the configs' batch size")
    parser.add_argument("--workers", type=int, nargs="+",
                        default=sorted({0, 1, 2, 4, 8} & set(range((os.cpu_count() or 1) + 1))),
                        help="DataLoader worker counts to time (default 0 1 2 4 8, up to the "
                             "CPU count)")
    parser.add_argument("--images", type=int, default=1024,
                        help="synthetic 424 px JPEGs for the loader (default 1024)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    reports = []
    for name in args.configs:
        try:
            report = measure(name, steps=args.steps, warmup=args.warmup, workers=args.workers,
                             images=args.images, batch_size=args.batch_size)
        except SommelierError as exc:
            print(f"throughput: error: {exc}", file=sys.stderr)
            return 1
        print("\n".join(report.lines()), flush=True)
        reports.append(asdict(report))
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
