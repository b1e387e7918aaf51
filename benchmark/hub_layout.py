"""Write, describe and read dataset folders in Hugging Face Hub layout.

Both the simulator (which writes upstream-style releases) and the builder (which writes the
benchmark) produce folders that `datasets.load_dataset(folder, config, split=...)` reads:
Parquet shards named `<split>-00000-of-00002.parquet` and a README whose YAML front matter
names each config's shards.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

SHARD_TEMPLATE = "{split}-{index:05d}-of-{count:05d}.parquet"


@contextlib.contextmanager
def quiet_datasets(quiet: bool = True):
    """Hide `datasets`' per-shard and per-split progress bars behind our own (`quiet=False`:
    leave them, e.g. for a Hub download, where they are the only sign of progress)."""
    import datasets

    if not quiet:
        yield
        return
    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def write_split(dataset, folder: Path, split: str, num_shards: int = 1,
                num_proc: int = 1) -> list[Path]:
    """Write a `datasets.Dataset` as `num_shards` contiguous Parquet shards under `folder`,
    `num_proc` shards at a time (pyarrow releases the GIL while it encodes and writes)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / SHARD_TEMPLATE.format(split=split, index=i, count=num_shards)
             for i in range(num_shards)]

    def write(index: int) -> None:
        dataset.shard(num_shards, index, contiguous=True).to_parquet(str(paths[index]))

    with quiet_datasets(), ThreadPoolExecutor(max_workers=max(1, num_proc)) as pool:
        list(pool.map(write, range(num_shards)))
    return paths


def configs_front_matter(configs: dict[str, dict[str, str]], extra: dict | None = None) -> str:
    """YAML front matter for a dataset card: `{config: {split: shard glob}}` plus extra keys."""
    meta = dict(extra or {})
    meta["configs"] = [
        {"config_name": name,
         "data_files": [{"split": split, "path": glob} for split, glob in splits.items()]}
        for name, splits in configs.items()
    ]
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n"


def cache_options(data: str) -> dict:
    """`load_dataset` options that keep a local folder's cache apart from other folders'.

    `datasets` keys the cache of a local folder by its card and file names, not by content, so
    a rebuilt or another folder with the same card would be served stale rows. A cache folder
    named by every file's path, size and mtime makes any change a new cache.
    """
    folder = Path(data)
    if not folder.is_dir():
        return {}
    stamp = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        info = path.stat()
        stamp.update(f"{path.relative_to(folder)}|{info.st_size}|{info.st_mtime_ns}\n".encode())
    base = Path(os.environ.get("HF_DATASETS_CACHE", Path.home() / ".cache" / "huggingface" / "datasets"))
    return {"cache_dir": str(base / "galaxy-sommelier-local" / stamp.hexdigest()[:20])}
