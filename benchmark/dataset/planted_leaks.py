"""Plant known leaks in a copy of a benchmark folder and measure how many the image audit finds.

Two kinds, as `image_audit` names them:

- `twin`: the optical image of a UKIDSS test galaxy is moved from its evaluation split into
  the optical `train` split under a new id and group (a galaxy the cross-match missed); the
  UKIDSS image should be flagged with that training image as its neighbour.
- `duplicate`: an optical training image, re-encoded as JPEG at `quality` (the simulator writes
  90), is added to the optical `test` split under a new id and group (one picture filed twice);
  the copy should be flagged with its original as its neighbour.

A suspect is a true leak when its two images show the same galaxy (the planted rows keep their
original group here, not in the folder); every other suspect is a false alarm.
`python -m benchmark.dataset.planted_leaks DATA --out DIR` plants, audits the clean and the
planted folder, and prints recall and false alarms (the numbers in docs/leakage.md).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import registry as R
from ..atomic import atomic_directory, check_replaceable
from ..errors import SommelierError
from ..hub_layout import configs_front_matter, write_split
from .image_audit import TRAIN, AuditReport, Thresholds, available_splits, audit
from .layout import DATA_DIR, IMAGE_COLUMN, shard_glob
from .load import load_split, resolve

TRUTH = "planted_leaks.json"
OPTICAL = "sdss"
UNSEEN = R.PRIMARY_SURVEY
#: The evaluation split of the unseen survey whose galaxies get a twin in training.
UNSEEN_SPLIT = R.PRIMARY_SPLIT
DUPLICATE_SPLIT = "test"


@dataclass(frozen=True)
class PlantedLeak:
    """One planted leak: `query_id` should be flagged with `neighbour_id` as its neighbour."""

    kind: str
    query_id: str
    neighbour_id: str
    group_id: str  # the galaxy both images show


def reencode(image: bytes, quality: int) -> bytes:
    """The same picture saved again as a JPEG of another quality."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as opened:
        buffer = io.BytesIO()
        opened.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _frame(data: str, survey: str, split: str):
    """(rows with undecoded image cells, the split's features)."""
    import datasets

    dataset = load_split(data, survey, split)
    rows = dataset.cast_column(IMAGE_COLUMN, datasets.Image(decode=False)).to_pandas()
    return rows, dataset.features


def _renamed(rows, kind: str):
    """Copies of `rows` under new ids and groups (the metadata no longer links them)."""
    rows = rows.copy()
    names = [f"planted-{kind}-{k}" for k in range(len(rows))]
    rows["source_id"] = names
    rows["id_str"] = [R.make_id(s, n) for s, n in zip(rows["survey"], names)]
    rows["group_id"] = names
    return rows


def _pick(wanted: int, available: int, rng: np.random.Generator, what: str) -> np.ndarray:
    if wanted > available:
        raise SommelierError(f"cannot plant {wanted} {what}: only {available} available")
    return np.sort(rng.choice(available, wanted, replace=False))


def _plant_twins(frames: dict, n: int, rng: np.random.Generator) -> list[PlantedLeak]:
    """Move the optical images of `n` unseen-survey test galaxies into optical training."""
    import pandas as pd

    held = [k for k in frames if k[0] == OPTICAL and k[1] != TRAIN]
    optical = pd.concat([frames[k] for k in held], ignore_index=True)
    pairs = frames[UNSEEN, UNSEEN_SPLIT].merge(optical, on="group_id", suffixes=("_unseen", ""))
    chosen = pairs.iloc[_pick(n, len(pairs), rng, "twins")]
    moved = _renamed(chosen[list(frames[OPTICAL, TRAIN].columns)], "twin")
    for key in held:
        frames[key] = frames[key][~frames[key]["id_str"].isin(set(chosen["id_str"]))]
    frames[OPTICAL, TRAIN] = pd.concat([frames[OPTICAL, TRAIN], moved], ignore_index=True)
    return [PlantedLeak("twin", q, m, g) for q, m, g in
            zip(chosen["id_str_unseen"], moved["id_str"], chosen["group_id"])]


def _plant_duplicates(frames: dict, n: int, quality: int,
                      rng: np.random.Generator) -> list[PlantedLeak]:
    """Add re-encoded copies of `n` optical training images to the optical test split."""
    import pandas as pd

    train = frames[OPTICAL, TRAIN]
    sources = train.iloc[_pick(n, len(train), rng, "duplicates")]
    copies = _renamed(sources, "duplicate")
    copies[IMAGE_COLUMN] = [{"bytes": reencode(cell["bytes"], quality), "path": None}
                            for cell in sources[IMAGE_COLUMN]]
    frames[OPTICAL, DUPLICATE_SPLIT] = pd.concat([frames[OPTICAL, DUPLICATE_SPLIT], copies],
                                                 ignore_index=True)
    return [PlantedLeak("duplicate", q, m, g) for q, m, g in
            zip(copies["id_str"], sources["id_str"], sources["group_id"])]


def plant(frames: dict, twins: int, duplicates: int, quality: int,
          seed: int) -> list[PlantedLeak]:
    """Alter `frames` ({(survey, split): rows}) in place; the leaks planted. Duplicates are
    copied from the training split as it was before the twins joined it."""
    rng = np.random.default_rng(seed)
    missing = {(OPTICAL, TRAIN), (OPTICAL, DUPLICATE_SPLIT), (UNSEEN, UNSEEN_SPLIT)} - set(frames)
    if missing:
        names = ", ".join("/".join(k) for k in sorted(missing))
        raise SommelierError(f"cannot plant leaks without {names}")
    duplicated = _plant_duplicates(frames, duplicates, quality, rng)
    return _plant_twins(frames, twins, rng) + duplicated


def _write_rows(rows, features, folder: Path, split: str) -> None:
    import datasets

    features = features.copy()
    features[IMAGE_COLUMN] = datasets.Image(decode=False)  # the cells hold bytes
    dataset = datasets.Dataset.from_pandas(rows, preserve_index=False,
                                           features=datasets.Features(features))
    write_split(dataset.cast_column(IMAGE_COLUMN, datasets.Image()), folder, split)


def plant_leaks(data: str | os.PathLike, out: str | os.PathLike, *, twins: int = 50,
                duplicates: int = 50, quality: int = 85, seed: int = 0) -> list[PlantedLeak]:
    """Write a copy of the benchmark folder `data` with leaks planted to `out` (replaced
    atomically); the unseen survey's shards are copied as they are. The truth goes to
    `out/planted_leaks.json`; the card is a bare one (configs only), not for publication."""
    ref = resolve(data)
    if not ref.local:
        raise SommelierError(f"{ref}: leaks are planted in a local folder only")
    out = Path(out)
    check_replaceable(out, TRUTH, "planted_leaks")
    available = available_splits(ref)
    needed = [k for k in available if k[0] == OPTICAL] + [(UNSEEN, UNSEEN_SPLIT)]
    loaded = {k: _frame(ref.location, *k) for k in needed if k in available}
    frames = {k: rows for k, (rows, _) in loaded.items()}
    leaks = plant(frames, twins, duplicates, quality, seed)
    configs: dict[str, dict[str, str]] = {}
    with atomic_directory(out) as tmp:
        for survey, split in available:
            configs.setdefault(survey, {})[split] = shard_glob(survey, split)
            folder = tmp / DATA_DIR / survey
            if survey == OPTICAL:
                _write_rows(frames[survey, split], loaded[survey, split][1], folder, split)
                continue
            folder.mkdir(parents=True, exist_ok=True)
            for shard in sorted((Path(ref.location) / DATA_DIR / survey).glob(f"{split}-*")):
                shutil.copy2(shard, folder / shard.name)
        (tmp / "README.md").write_text(configs_front_matter(configs) + (
            f"\nA copy of {Path(ref.location).name} with {len(leaks)} planted leaks "
            f"({TRUTH}); for testing the image audit only.\n"), encoding="utf-8")
        (tmp / TRUTH).write_text(json.dumps([asdict(x) for x in leaks], indent=1) + "\n")
    return leaks


def read_leaks(folder: str | os.PathLike) -> list[PlantedLeak]:
    return [PlantedLeak(**x) for x in json.loads((Path(folder) / TRUTH).read_text())]


# --- scoring -------------------------------------------------------------------------------

def _groups(data: str | os.PathLike) -> dict[str, str]:
    """id -> group of every row of a local folder."""
    out: dict[str, str] = {}
    for survey, split in available_splits(resolve(data)):
        table = load_split(data, survey, split, columns=["id_str", "group_id"])
        out.update(zip(table["id_str"], table["group_id"]))
    return out


@dataclass(frozen=True)
class KindScore:
    """How the audit did on one kind of leak."""

    kind: str
    queries: int
    planted: int
    found: int  # planted leaks flagged with the planted neighbour
    false_alarms: int  # suspects whose two images are different galaxies
    other_true: int  # true leaks not planted (e.g. the DECaLS view of a moved galaxy)

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else float("nan")

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.queries if self.queries else float("nan")


def score(report: AuditReport, leaks: list[PlantedLeak],
          data: str | os.PathLike) -> list[KindScore]:
    """Recall and false alarms of each kind; `data` is the folder `report` audited."""
    galaxy = _groups(data)  # the planted rows' new groups, replaced by their real ones:
    galaxy.update({x.neighbour_id if x.kind == "twin" else x.query_id: x.group_id for x in leaks})
    planted = {(x.kind, x.query_id, x.neighbour_id) for x in leaks}
    scores = []
    for kind in ("duplicate", "twin"):
        mine = report.of_kind([kind])
        hits = {(s.kind, s.query_id, s.neighbour_id) for s in mine} & planted
        true = [s for s in mine if galaxy[s.query_id] == galaxy[s.neighbour_id]]
        scores.append(KindScore(
            kind, sum(c.queries for c in report.comparisons if c.kind == kind),
            sum(x.kind == kind for x in leaks), len(hits), len(mine) - len(true),
            len(true) - len(hits)))
    return scores


def score_table(rows: list[tuple[str, list[KindScore]]]) -> str:
    from tabulate import tabulate

    return tabulate([[name, s.kind, s.queries, s.planted, s.found,
                      f"{s.recall:.3f}" if s.planted else "-", s.false_alarms,
                      f"{s.false_alarm_rate:.4f}", s.other_true]
                     for name, scores in rows for s in scores],
                    headers=["build", "kind", "queries", "planted", "found", "recall",
                             "false alarms", "false-alarm rate", "other true"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="a benchmark folder (e.g. a simulated build)")
    parser.add_argument("--out", required=True, help="folder for the planted copy (replaced)")
    parser.add_argument("--twins", type=int, default=50)
    parser.add_argument("--duplicates", type=int, default=50)
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality of the copies")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duplicate-ratio", type=float, default=Thresholds().duplicate_ratio)
    parser.add_argument("--twin-ratio", type=float, default=Thresholds().twin_ratio)
    args = parser.parse_args(argv)
    try:
        leaks = plant_leaks(args.data, args.out, twins=args.twins, duplicates=args.duplicates,
                            quality=args.quality, seed=args.seed)
        limits = Thresholds(duplicate_ratio=args.duplicate_ratio, twin_ratio=args.twin_ratio)
        clean = audit(args.data, thresholds=limits, progress=False)
        planted = audit(args.out, thresholds=limits, progress=False)
    except SommelierError as exc:
        raise SystemExit(f"planted_leaks: error: {exc}") from None
    print(score_table([("clean", score(clean, [], args.data)),
                       ("planted", score(planted, leaks, args.out))]))
    print(f"audit time: clean {clean.seconds:.1f} s, planted {planted.seconds:.1f} s "
          f"({sum(planted.images.values())} images)")


if __name__ == "__main__":
    main()
