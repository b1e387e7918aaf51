"""Publish the benchmark: Parquet shards, dataset card, sha256 manifest; push and download.

The folder is the unit of publication: what `build` writes locally is byte for byte what
`push` uploads and what `download` verifies, so a Hub revision and a local build can be
compared by their manifests.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from . import layout as D
from .. import registry as R
from ..atomic import write_text
from ..errors import SommelierError
from ..hub_layout import configs_front_matter, write_split

CARD_TEMPLATE = Path(__file__).resolve().parent / "definition" / "card.md"


def features():
    """The dataset's column types, in the documented order."""
    import datasets

    cols = {"id_str": "string", "survey": "string", "source_id": "string", "group_id": "string",
            "ra": "float64", "dec": "float64"}
    spec = {name: datasets.Value(kind) for name, kind in cols.items()}
    spec[D.IMAGE_COLUMN] = datasets.Image()
    for name in D.label_columns():
        spec[name] = datasets.Value("float32" if name.endswith("_fraction") else "int32")
    return datasets.Features(spec)


def split_rows(rows: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """Rows of each (survey, split), in registry order."""
    out = {}
    for survey in R.SURVEYS:
        for split in R.SURVEYS[survey].splits:
            part = rows[(rows["survey"] == survey) & (rows["split"] == split)]
            if len(part):
                out[survey, split] = part
    return out


def shard_count(n: int, rows_per_shard: int) -> int:
    return max(1, int(np.ceil(n / rows_per_shard)))


def write_dataset(rows: pd.DataFrame, root: Path, definition, *, num_proc: int = 1,
                  progress: bool = True) -> None:
    """One config per survey, its splits as Parquet shards under data/<survey>/."""
    import datasets
    from tqdm import tqdm

    spec = features()
    parts = split_rows(rows)
    for (survey, split), part in tqdm(parts.items(), desc="writing shards", disable=not progress):
        frame = part[list(spec)].copy()
        frame[D.IMAGE_COLUMN] = [{"bytes": b, "path": None} for b in frame[D.IMAGE_COLUMN]]
        ds = datasets.Dataset.from_pandas(frame, features=spec, preserve_index=False)
        write_split(ds, root / D.DATA_DIR / survey, split,
                    shard_count(len(ds), definition.rows_per_shard), num_proc=num_proc)


def _markdown(rows: list[list], headers: list[str]) -> str:
    return tabulate(rows, headers=headers, tablefmt="github") if rows else "(none)"


def write_card(root: Path, report, definition, repo: str) -> None:
    """README.md: YAML configs (what `load_dataset` reads) and the human-readable card."""
    configs = {}
    for survey in R.SURVEYS:
        splits = {split: D.shard_glob(survey, split) for split in R.SURVEYS[survey].splits
                  if (survey, split) in report.split_sizes}
        if splits:
            configs[survey] = splits
    header = configs_front_matter(configs, {"license": definition.license,
                                            "pretty_name": "Galaxy Sommelier",
                                            "tags": ["astronomy", "galaxy-zoo", "out-of-distribution"]})
    split_table = _markdown([[s, p, n] for (s, p), n in report.split_sizes.items()],
                            ["survey", "split", "galaxies"])
    overlap = _markdown([[k, n] for k, n in report.overlaps.items()], ["surveys of one galaxy", "galaxies"])
    links = "; ".join(f"{k}: {n}" for k, n in report.links.items()) or "none"
    leakage = (f"Links found: {links}. Galaxies are matched on the sky within "
               f"{definition.match_radius_arcsec} arcsec and through the id maps given.")
    if report.unmatched:
        leakage = (f"**WARNING: {', '.join(report.unmatched)} could not be matched to the other "
                   "surveys (no coordinates, no id map). Its galaxies may also be in the optical "
                   "training splits: the leakage of this build is UNKNOWN.** " + leakage)
    drops = _markdown([[s, r, n] for (s, r), n in sorted(report.dropped.items())],
                      ["survey", "reason", "rows"])
    body = CARD_TEMPLATE.read_text().format(
        version=definition.version, sources=", ".join(f"`{s}`" for s in report.sources), repo=repo,
        split_table=split_table, salt=definition.salt, leakage=leakage, overlap_table=overlap,
        drop_table=drops, license=definition.license)
    write_text(root / "README.md", header + "\n" + body)


def manifest_lines(root: Path) -> list[str]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != D.MANIFEST
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    return [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}"
            for p in files]


def write_manifest(root: Path) -> None:
    write_text(root / D.MANIFEST, "\n".join(manifest_lines(root)) + "\n")


def verify_manifest(root: str | Path) -> int:
    """Check every file against MANIFEST.sha256; returns the number of files checked."""
    root = Path(root)
    manifest = root / D.MANIFEST
    if not manifest.is_file():
        raise SommelierError(f"{root}: no {D.MANIFEST}; not a published benchmark folder")
    expected = manifest.read_text().splitlines()
    actual = manifest_lines(root)
    if expected != actual:
        differ = sorted(set(expected) ^ set(actual))
        names = sorted({line.split("  ", 1)[-1] for line in differ})
        raise SommelierError(f"{root}: files differ from {D.MANIFEST}: {', '.join(names[:5])}"
                             + (" ..." if len(names) > 5 else ""))
    return len(actual)


def push(folder: str | Path, repo: str, *, revision: str | None = None, private: bool = False,
         dry_run: bool = False, api=None) -> list[str]:
    """Upload a verified folder to the Hub as a dataset repo; returns the files sent."""
    folder = Path(folder)
    verify_manifest(folder)
    files = [line.split("  ", 1)[1] for line in manifest_lines(folder)] + [D.MANIFEST]
    if dry_run:
        return files
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi()
    api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(folder_path=str(folder), repo_id=repo, repo_type="dataset",
                      revision=revision, commit_message=f"Galaxy Sommelier dataset from {folder.name}")
    return files


def download(repo: str, out: str | Path, *, revision: str | None = None) -> Path:
    """Fetch a revision of the dataset repo (or take a local folder) and verify its manifest."""
    path = Path(repo)
    if path.is_dir():
        verify_manifest(path)
        return path
    from huggingface_hub import snapshot_download

    try:
        local = snapshot_download(repo, repo_type="dataset", revision=revision, local_dir=str(out))
    except Exception as exc:  # network and Hub errors of many types: all 'could not fetch'
        raise SommelierError(f"cannot download {repo!r} (revision {revision or 'main'}): {exc}") from exc
    verify_manifest(local)
    return Path(local)
