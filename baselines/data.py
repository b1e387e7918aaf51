"""Benchmark splits as training data: labels in memory, images decoded once into a cache.

Each split is read once through `benchmark.dataset.load.load_split` (a local folder or a Hub id).
Its JPEGs are decoded at the model's input size a single time, in DataLoader workers, into a
uint8 `.npy` file under the cache folder, keyed by the dataset's fingerprint; every later epoch
and run memory-maps that file, so an epoch costs a read and a batched augmentation on the
device, not a JPEG decode per image.

Training surveys are mixed by share, not by size: each epoch draws `share x epoch_size`
galaxies from each survey (cycling through a permutation of it), then shuffles. The epoch's
order and each galaxy's random view depend only on (seed, stage, epoch), and each process of a
data-parallel run takes its slice of every global batch, so one process and N processes see
the same batches (the equivalent of a `DistributedSampler`, with mixing built in). Algorithms
that compare surveys within a batch (`baselines.algorithms`) get stratified epochs instead:
every batch holds each survey's share exactly, interleaved so that each process's slice of it
does too. Either way an epoch is `epoch_size` galaxies, so the mix never changes the number of
optimiser steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from benchmark.dataset import layout as D
from benchmark.dataset.load import load_split
from benchmark import registry as R
from benchmark.atomic import atomic_path
from benchmark.errors import SommelierError

from .config import Config, DataConfig
from .images import Views, decode_batch

DECODE_CHUNK = 256
FIRST_QUESTION_VOTES = R.total_votes_column(R.QUESTIONS[0].name)


def default_cache_dir() -> Path:
    import datasets

    return Path(datasets.config.HF_DATASETS_CACHE) / "galaxy-sommelier"


class ImageStore:
    """The decoded images of one split (`.npy`, N x S x S x 3 uint8), memory-mapped on first
    use in each process; `rows` selects a subset without copying."""

    def __init__(self, path: Path, rows: np.ndarray | None = None):
        self.path = path
        self._array: np.ndarray | None = None
        self.rows = rows if rows is not None else np.arange(len(self.array))

    @property
    def array(self) -> np.ndarray:
        if self._array is None:
            self._array = np.load(self.path, mmap_mode="r")
        return self._array

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self.array[self.rows[rows]]

    def subset(self, rows: np.ndarray) -> "ImageStore":
        return ImageStore(self.path, self.rows[rows])

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_array": None}  # workers map the file themselves


@dataclass(frozen=True)
class Labels:
    fractions: np.ndarray  # (N, K) float32, NaN where the question was not asked
    counts: np.ndarray  # (N, K) float32, 0 where not asked or not published
    first_votes: np.ndarray  # votes on the first question: how well classified a galaxy is

    def __getitem__(self, rows: np.ndarray) -> "Labels":
        return Labels(self.fractions[rows], self.counts[rows], self.first_votes[rows])


@dataclass(frozen=True)
class SplitData:
    name: str  # survey/split
    ids: np.ndarray
    groups: np.ndarray
    labels: Labels | None
    images: ImageStore | None
    fingerprint: str

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, rows: np.ndarray) -> "SplitData":
        return replace(self, ids=self.ids[rows], groups=self.groups[rows],
                       labels=None if self.labels is None else self.labels[rows],
                       images=None if self.images is None else self.images.subset(rows))


def load_split_data(data: str, survey: str, split: str, features: tuple[str, ...], *,
                    labelled: bool, image_size: int | None, revision: str | None = None,
                    cache_dir: str | Path | None = None, num_workers: int = 0) -> SplitData:
    """One benchmark split: ids, labels of `features` (if `labelled`), decoded images (if
    `image_size`)."""
    label_cols = list(dict.fromkeys(D.label_columns(features) + [FIRST_QUESTION_VOTES]))
    columns = ["id_str", "group_id"] + (label_cols if labelled else [])
    ds = load_split(data, survey, split, revision,
                    columns=columns + ([D.IMAGE_COLUMN] if image_size else []))
    table = ds.remove_columns([c for c in ds.column_names if c not in columns]).to_pandas()
    labels = None
    if labelled:
        fractions = table[[R.fraction_column(f) for f in features]].to_numpy(
            "float32", na_value=np.nan)
        counts = table[[R.count_column(f) for f in features]].to_numpy("float32", na_value=0)
        labels = Labels(fractions, counts, table[FIRST_QUESTION_VOTES].to_numpy("int64"))
    name = f"{survey}/{split}"
    images = None
    if image_size:
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        images = decode_to_cache(ds, name, image_size, cache, num_workers)
    return SplitData(name, table["id_str"].to_numpy(), table["group_id"].to_numpy(), labels,
                     images, ds._fingerprint)


class _DecodeChunks(Dataset):
    """Item i = (first row, decoded uint8 images) of the i-th chunk of a split's JPEGs."""

    def __init__(self, images, size: int):
        self.images, self.size = images, size

    def __len__(self) -> int:
        return math.ceil(len(self.images) / DECODE_CHUNK)

    def __getitem__(self, index: int) -> tuple[int, torch.Tensor]:
        start = index * DECODE_CHUNK
        cells = self.images[start:start + DECODE_CHUNK][D.IMAGE_COLUMN]
        jpegs = [c["bytes"] if c["bytes"] is not None else Path(c["path"]).read_bytes()
                 for c in cells]
        return start, decode_batch(jpegs, self.size)


def decode_to_cache(ds, name: str, size: int, cache_dir: Path, num_workers: int) -> ImageStore:
    """Decode a split's images once into `<cache>/<split>-<fingerprint>-<size>px.npy`."""
    import datasets

    path = cache_dir / f"{name.replace('/', '-')}-{ds._fingerprint}-{size}px.npy"
    if not path.is_file():
        images = ds.select_columns([D.IMAGE_COLUMN]).cast_column(
            D.IMAGE_COLUMN, datasets.Image(decode=False))
        loader = DataLoader(_DecodeChunks(images, size), batch_size=None, num_workers=num_workers)
        with atomic_path(path) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                            shape=(len(ds), size, size, 3))
            chunks = tqdm(loader, desc=f"decode {name}", unit="chunk", leave=False, disable=None)
            for start, pixels in chunks:
                out[start:start + len(pixels)] = pixels.permute(0, 2, 3, 1).numpy()
            out.flush()
            del out
    return ImageStore(path)


# --- choosing and mixing training galaxies ---------------------------------------------------

def select_training(config: DataConfig, splits: dict[str, SplitData],
                    rng: np.random.Generator) -> dict[str, SplitData]:
    """Apply the config's selection to each survey's training split, in a fixed order:
    galaxies seen by every survey (`overlap_only`), then `min_votes`, then a random `sample`."""
    if config.overlap_only:
        common = set.intersection(*(set(s.groups) for s in splits.values()))
        splits = {k: s.subset(np.flatnonzero(np.isin(s.groups, list(common))))
                  for k, s in splits.items()}
    for survey, least in config.min_votes.items():
        split = splits[survey]
        splits[survey] = split.subset(np.flatnonzero(split.labels.first_votes >= least))
    for survey, n in config.sample.items():
        split = splits[survey]
        if n < len(split):
            splits[survey] = split.subset(np.sort(rng.choice(len(split), n, replace=False)))
    return splits


@dataclass(frozen=True)
class Pool:
    """Several splits addressed by one row index (each split a contiguous block)."""

    parts: tuple[SplitData, ...]

    @property
    def offsets(self) -> np.ndarray:
        return np.cumsum([0] + [len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def fractions(self) -> np.ndarray:
        return np.concatenate([p.labels.fractions for p in self.parts])

    def gather(self, rows: np.ndarray) -> dict[str, torch.Tensor]:
        """Images (uint8, N x 3 x S x S, channels-last), labels and domains (the index of each
        row's part: its survey, for the algorithms that compare surveys) of the given rows."""
        offsets = self.offsets
        part_of = np.searchsorted(offsets, rows, side="right") - 1
        pieces: dict[str, list] = {}
        order = []
        for p, part in enumerate(self.parts):
            local = rows[part_of == p] - offsets[p]
            if len(local) == 0:
                continue
            order.append(np.flatnonzero(part_of == p))
            if part.images is not None:
                pieces.setdefault("images", []).append(part.images[local])
            if part.labels is not None:
                pieces.setdefault("fractions", []).append(part.labels.fractions[local])
                pieces.setdefault("counts", []).append(part.labels.counts[local])
        back = np.argsort(np.concatenate(order))
        batch = {k: torch.from_numpy(np.concatenate(v)[back]) for k, v in pieces.items()}
        batch["domains"] = torch.from_numpy(part_of)
        if "images" in batch:
            batch["images"] = batch["images"].permute(0, 3, 1, 2)
        return batch


def epoch_length(config: DataConfig, sizes: list[int]) -> int:
    """Galaxies per epoch: the config's fixed `epoch_size`, else all selected training galaxies
    (which makes the number of steps depend on the mix: the reference configs fix it)."""
    return config.epoch_size or sum(sizes)


def apportion(shares: list[float], total: int) -> np.ndarray:
    """`total` split in proportion to `shares`, in whole numbers (largest remainders)."""
    wanted = np.asarray(shares, dtype=float) / sum(shares) * total
    counts = np.floor(wanted).astype(int)
    counts[np.argsort(counts - wanted)[: total - counts.sum()]] += 1
    return counts


def _cycled(size: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` rows of a part of `size`, cycling through fresh permutations of it."""
    return np.concatenate([rng.permutation(size) for _ in range(-(-n // size))])[:n]


def epoch_rows(sizes: list[int], shares: list[float], epoch_size: int,
               rng: np.random.Generator) -> np.ndarray:
    """Pool rows of one mixed epoch: `share x epoch_size` from each part, shuffled."""
    offsets = np.cumsum([0] + list(sizes))
    rows = [offsets[p] + _cycled(size, n, rng)
            for p, (size, n) in enumerate(zip(sizes, apportion(shares, epoch_size))) if n]
    return rng.permutation(np.concatenate(rows))


def batch_pattern(shares: list[float], batch_size: int) -> np.ndarray:
    """The part of each position of a stratified batch: each part's share, interleaved evenly
    (A B A B ..., not A A B B), so any contiguous slice holds about its share too."""
    counts = apportion(shares, batch_size)
    keys = np.concatenate([(np.arange(n) + 0.5) / n for n in counts if n])
    parts = np.concatenate([np.full(n, p) for p, n in enumerate(counts) if n])
    return parts[np.argsort(keys, kind="stable")]


def stratified_rows(sizes: list[int], shares: list[float], epoch_size: int, batch_size: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Pool rows of one epoch of whole batches in which every batch holds each part's share
    exactly, at the positions of `batch_pattern`."""
    pattern = batch_pattern(shares, batch_size)
    batches = epoch_size // batch_size
    offsets = np.cumsum([0] + list(sizes))
    rows = np.empty((batches, batch_size), dtype=np.int64)
    for p, size in enumerate(sizes):
        where = pattern == p
        rows[:, where] = (offsets[p] + _cycled(size, batches * int(where.sum()), rng)
                          ).reshape(batches, -1)
    return rows.ravel()


@dataclass(frozen=True)
class Plan:
    """The rows of one pass over a pool, in order, with each row's augmented view."""

    rows: np.ndarray
    views: Views

    @classmethod
    def in_order(cls, n: int) -> "Plan":
        return cls(np.arange(n), Views.identity(n))


def train_batches(n: int, batch_size: int, rank: int, world: int) -> list[np.ndarray]:
    """Positions of this process's share of each full global batch (the last partial one is
    dropped so every process steps with the same number of galaxies)."""
    local = batch_size // world
    return [np.arange(start + rank * local, start + (rank + 1) * local)
            for start in range(0, n - batch_size + 1, batch_size)]


def eval_batches(n: int, batch_size: int, rank: int, world: int) -> list[np.ndarray]:
    """Positions of this process's contiguous shard of all `n`, in batches."""
    shard = np.array_split(np.arange(n), world)[rank]
    return [shard[i:i + batch_size] for i in range(0, len(shard), batch_size)]


class PlannedBatches(Dataset):
    """Item j = the j-th batch of a plan, gathered in one read per split."""

    def __init__(self, pool: Pool, plan: Plan, batches: list[np.ndarray]):
        self.pool, self.plan, self.batches = pool, plan, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        positions = self.batches[index]
        batch = self.pool.gather(self.plan.rows[positions])
        views = self.plan.views[positions]
        batch["angles"] = torch.from_numpy(views.angles)
        batch["flips"] = torch.from_numpy(views.flips)
        batch["positions"] = torch.from_numpy(positions)
        return batch


def loader(pool: Pool, plan: Plan, batches: list[np.ndarray], num_workers: int,
           device: torch.device) -> DataLoader:
    return DataLoader(PlannedBatches(pool, plan, batches), batch_size=None, shuffle=False,
                      num_workers=num_workers, pin_memory=device.type == "cuda")


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def iterate(loader_: DataLoader, device: torch.device, desc: str, show: bool
            ) -> Iterator[dict[str, torch.Tensor]]:
    """Batches on the device, with a progress bar on the main process's terminal (none in
    logs: `history.jsonl` has a line per epoch)."""
    bar = tqdm(loader_, desc=desc, unit="batch", leave=False, disable=None if show else True)
    for batch in bar:
        yield to_device(batch, device)


# --- everything a training run reads -------------------------------------------------------

@dataclass(frozen=True)
class TrainingData:
    train: Pool  # selected training galaxies, one part per survey in `surveys`
    surveys: tuple[str, ...]
    shares: tuple[float, ...]  # each survey's share of an epoch
    validation: dict[str, Pool]  # in-distribution validation split of each training survey
    epoch_size: int
    loaded: tuple[SplitData, ...]  # every split as read, for the run record


def load_training_data(config: Config, data: str, seed: int,
                       image_size: int | None) -> TrainingData:
    """Training and validation splits of the config's surveys (never UKIDSS)."""
    dc = config.data

    def read(survey: str, split: str) -> SplitData:
        return load_split_data(data, survey, split, config.feature_names, labelled=True,
                               image_size=image_size, revision=dc.revision,
                               cache_dir=dc.cache_dir, num_workers=dc.num_workers)

    surveys = tuple(dc.mix)
    train = {s: read(s, "train") for s in surveys}
    validation = {s: read(s, "validation") for s in surveys}
    loaded = (*train.values(), *validation.values())
    train = select_training(dc, dict(train), np.random.default_rng([seed, 1]))
    if dc.max_validation is not None:
        fixed = np.random.default_rng(0)  # the same validation galaxies for every seed
        validation = {s: v.subset(np.sort(fixed.choice(len(v), dc.max_validation, replace=False)))
                      if dc.max_validation < len(v) else v for s, v in validation.items()}
    empty = [s for s in surveys if len(train[s]) == 0 or len(validation[s]) == 0]
    if empty:
        raise SommelierError(f"no training or validation galaxies left for {', '.join(empty)} "
                             "after the config's selection")
    pool = Pool(tuple(train[s] for s in surveys))
    return TrainingData(pool, surveys, tuple(dc.mix[s] for s in surveys),
                        {s: Pool((v,)) for s, v in validation.items()},
                        epoch_length(dc, [len(p) for p in pool.parts]), loaded)
