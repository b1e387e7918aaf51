"""Write and describe dataset folders in Hugging Face Hub layout.

Both the simulator (which writes upstream-style releases) and the builder (which writes the
benchmark) produce folders that `datasets.load_dataset(folder, config, split=...)` reads:
Parquet shards named `<split>-00000-of-00002.parquet` and a README whose YAML front matter
names each config's shards.
"""

from __future__ import annotations

from pathlib import Path

import yaml

SHARD_TEMPLATE = "{split}-{index:05d}-of-{count:05d}.parquet"


def write_split(dataset, folder: Path, split: str, num_shards: int = 1) -> list[Path]:
    """Write a `datasets.Dataset` as `num_shards` contiguous Parquet shards under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(num_shards):
        path = folder / SHARD_TEMPLATE.format(split=split, index=index, count=num_shards)
        dataset.shard(num_shards, index, contiguous=True).to_parquet(str(path))
        paths.append(path)
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
