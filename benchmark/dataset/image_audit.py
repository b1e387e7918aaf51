"""Image-level leakage probe: the same picture, or the same galaxy, on both sides of a split.

The builder keeps a galaxy's images together by `group_id` (sky matches and id maps); this
probe checks the images themselves, so a leak the metadata cannot see (a galaxy matched to no
group, one image filed under two ids) still shows. Two kinds of suspect:

- `duplicate`: an image of a survey that is (nearly) the same picture as one in another split of
  that survey (a re-encoded or resized copy). Every image of a split other than `train` (every
  split of the unseen survey) is a query; the reference pool is that survey's other splits.
- `twin`: a galaxy of an evaluation split whose image looks like a training image of another
  survey (the same galaxy seen twice). Queries: every split of the unseen survey (UKIDSS) and
  every non-`train` split of an optical survey; the pool is the `train` split of each optical
  survey other than the query's own, one survey at a time (each survey frames its cutouts its
  own way, so a pool of one survey keeps the ratio below meaningful).

Descriptor `pixels-v1` (fixed: every number below is part of its definition):

1. Decode the image (a JPEG at the smallest DCT scale still at least 128 px wide, for speed)
   and convert it to grey (PIL mode `L`: 0.299 R + 0.587 G + 0.114 B), as float.
2. Take the central square (side = the shorter side).
3. `whole` view: that square resized to 32 x 32 (PIL bilinear, area-averaging when shrinking),
   linear grey levels. It compares pictures: the duplicate kind.
4. `core` view: the central quarter of the square (side / 4; Galaxy Zoo cutouts are about
   8 R90 across, so this is the galaxy itself) resized to 16 x 16, then the square root of the
   grey level (0-1), which tames the difference in stretch between surveys. It compares
   galaxies: the twin kind.
5. Each view minus its mean, divided by its Euclidean norm (a blank view stays all zeros).

Distances are cosine distances, 1 - u.v, in [0, 2], found by exact search (NumPy matrix
products in blocks of bounded memory). A query's score is its nearest neighbour's distance d1
and the ratio d1 / d2 to its second nearest: many galaxies look alike, so only a neighbour much
closer than the next one is evidence (a pool with one image gives ratio 1, no evidence).
A query is a suspect when

- duplicate: d1 <= `duplicate_distance` or d1 / d2 <= `duplicate_ratio`;
- twin: d1 / d2 <= `twin_ratio`.

The defaults are calibrated on the simulator with planted leaks (docs/leakage.md,
`python -m benchmark.dataset.planted_leaks`).
"""

from __future__ import annotations

import io
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from .. import registry as R
from ..errors import ArgumentError, SommelierError
from .layout import DATA_DIR, IMAGE_COLUMN

if TYPE_CHECKING:  # `load` imports pandas: only when a dataset is actually read
    from .load import DataReference

DESCRIPTOR = "pixels-v1"
DRAFT_SIZE = 128
WHOLE_SIZE = 32
CORE_FRACTION = 0.25
CORE_SIZE = 16
#: Bytes of one block of the similarity matrix: bounds the search's memory.
BLOCK_BYTES = 64 * 2**20
TRAIN = "train"
KINDS = ("duplicate", "twin")
REPORT_SUFFIXES = (".csv", ".parquet", ".json")
_SHARD = re.compile(r"^(?P<split>[A-Za-z0-9_]+)-[0-9]{5}-of-[0-9]{5}\.parquet$")


@dataclass(frozen=True)
class Thresholds:
    """When a nearest neighbour makes a query a suspect (see the module docstring)."""

    duplicate_distance: float = 0.0005
    duplicate_ratio: float = 0.2
    twin_ratio: float = 0.5

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not 0.0 <= value <= 2.0:
                raise ArgumentError(name, f"must be between 0 and 2, got {value}")


@dataclass
class Embedded:
    """The descriptors of one (survey, split); rows whose image did not decode are left out."""

    survey: str
    split: str
    ids: np.ndarray
    groups: np.ndarray
    whole: np.ndarray  # (n, WHOLE_SIZE**2) float32, unit norm (or zero)
    core: np.ndarray  # (n, CORE_SIZE**2) float32
    undecodable: int = 0

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Suspect:
    """One query whose nearest neighbour across a split boundary is too close."""

    kind: str
    query_id: str
    query_survey: str
    query_split: str
    neighbour_id: str
    neighbour_survey: str
    neighbour_split: str
    distance: float  # cosine distance of the kind's view
    ratio: float  # distance / distance to the second nearest neighbour
    same_group: bool  # the metadata already links them: the split itself leaks


@dataclass(frozen=True)
class Comparison:
    """One query split searched against one reference pool, and what it found."""

    kind: str
    query: str  # survey/split
    reference: str  # the pool's splits, e.g. sdss/train+test
    queries: int
    suspects: int


@dataclass
class AuditReport:
    """Everything `audit` measured: what `sommelier data audit` prints and writes."""

    data: str
    thresholds: Thresholds
    descriptor: str = DESCRIPTOR
    images: dict[str, int] = field(default_factory=dict)
    undecodable: dict[str, int] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    suspects: list[Suspect] = field(default_factory=list)
    seconds: float = 0.0

    def of_kind(self, kinds: Iterable[str]) -> list[Suspect]:
        wanted = set(kinds)
        return [s for s in self.suspects if s.kind in wanted]

    def to_dict(self) -> dict:
        return {"data": self.data, "descriptor": self.descriptor,
                "thresholds": asdict(self.thresholds), "images": self.images,
                "undecodable": self.undecodable, "seconds": self.seconds,
                "comparisons": [asdict(c) for c in self.comparisons],
                "suspects": [asdict(s) for s in self.suspects]}


# --- the descriptor ------------------------------------------------------------------------

def _unit(values: np.ndarray) -> np.ndarray:
    flat = values.ravel().astype(np.float32)
    flat -= flat.mean()
    norm = float(np.linalg.norm(flat))
    return flat / norm if norm > 1e-6 else np.zeros_like(flat)


def _open_grey(image: bytes | str):
    """The image as a PIL float-grey image; a JPEG decoded at a reduced DCT scale."""
    from PIL import Image

    source = io.BytesIO(image) if isinstance(image, (bytes, bytearray)) else image
    with Image.open(source) as opened:
        if opened.format == "JPEG":
            opened.draft("L", (DRAFT_SIZE, DRAFT_SIZE))
        return opened.convert("L").convert("F")


def describe(image: bytes | str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The (`whole`, `core`) views of one image (bytes or a path); None if it does not decode."""
    from PIL import Image

    if not image:
        return None
    try:
        grey = _open_grey(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    width, height = grey.size
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    whole = grey.resize((WHOLE_SIZE, WHOLE_SIZE), Image.BILINEAR,
                        box=(left, top, left + side, top + side))
    inset = side * (1 - CORE_FRACTION) / 2
    core = grey.resize((CORE_SIZE, CORE_SIZE), Image.BILINEAR,
                       box=(left + inset, top + inset, left + side - inset, top + side - inset))
    core_values = np.sqrt(np.clip(np.asarray(core, dtype=np.float32) / 255.0, 0.0, None))
    return _unit(np.asarray(whole, dtype=np.float32)), _unit(core_values)


def _image_source(cell) -> bytes | str | None:
    """The bytes (or path) of an undecoded `datasets.Image` cell."""
    if cell is None:
        return None
    if isinstance(cell, dict):
        return cell.get("bytes") or cell.get("path")
    return cell


def embed_rows(survey: str, split: str, batches: Iterable[dict], progress=None) -> Embedded:
    """Describe every row of one split from batches of `id_str`, `group_id` and `image` cells."""
    ids, groups, whole, core, bad = [], [], [], [], 0
    for batch in batches:
        for id_str, group, cell in zip(batch["id_str"], batch["group_id"], batch[IMAGE_COLUMN]):
            views = describe(_image_source(cell))
            if views is None:
                bad += 1
            else:
                ids.append(id_str)
                groups.append(group)
                whole.append(views[0])
                core.append(views[1])
        if progress is not None:
            progress.update(len(batch["id_str"]))
    return Embedded(survey, split, np.asarray(ids, dtype=object), np.asarray(groups, dtype=object),
                    _stack(whole, WHOLE_SIZE), _stack(core, CORE_SIZE), bad)


def _stack(views: list[np.ndarray], size: int) -> np.ndarray:
    return np.stack(views) if views else np.zeros((0, size * size), dtype=np.float32)


# --- exact search --------------------------------------------------------------------------

def nearest_two(queries: np.ndarray, pool: np.ndarray,
                block_bytes: int = BLOCK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Index (n, 2) and cosine distance (n, 2) of each query's two nearest pool rows, by exact
    search one block of queries at a time (a block's similarities fit in `block_bytes`).
    A missing second neighbour (a pool of one) has index -1 and distance inf."""
    n, m = len(queries), len(pool)
    index = np.full((n, 2), -1, dtype=np.int64)
    distance = np.full((n, 2), np.inf, dtype=np.float64)
    if n == 0 or m == 0:
        return index, distance
    k = min(2, m)
    rows = max(1, block_bytes // (4 * m))
    for start in range(0, n, rows):
        similarity = queries[start:start + rows] @ pool.T
        # kth=1: column 0 the most similar, column 1 the next (a partition, not a full sort)
        top = (np.argpartition(-similarity, 1, axis=1)[:, :2] if m > 1
               else np.zeros((len(similarity), 1), dtype=np.int64))
        index[start:start + rows, :k] = top
        distance[start:start + rows, :k] = np.clip(
            1.0 - np.take_along_axis(similarity, top, axis=1), 0.0, 2.0)
    return index, distance


def ratios(distance: np.ndarray) -> np.ndarray:
    """d1 / d2 per query: 0 when both neighbours are identical, 1 without a second one."""
    d1, d2 = distance[:, 0], distance[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(d2 > 0, d1 / d2, 0.0)
    return np.where(np.isfinite(d2), out, 1.0)


# --- what is compared with what ------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """One search: a query split against the union of reference splits, for one kind."""

    kind: str
    query: tuple[str, str]
    pool: tuple[tuple[str, str], ...]


def query_splits(available: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Evaluation splits: every split of the unseen survey, every non-train optical split."""
    return [(s, p) for s, p in available if R.SURVEYS[s].ood or p != TRAIN]


def plans(available: Iterable[tuple[str, str]]) -> list[Plan]:
    """The searches the audit runs on a dataset holding the `available` (survey, split)s."""
    available = list(available)
    train = [(s, p) for s, p in available if p == TRAIN and not R.SURVEYS[s].ood]
    out = []
    for survey, split in query_splits(available):
        same = tuple((s, p) for s, p in available if s == survey and p != split)
        if same:
            out.append(Plan("duplicate", (survey, split), same))
        out += [Plan("twin", (survey, split), (key,)) for key in train if key[0] != survey]
    return out


def search(plan: Plan, embedded: dict[tuple[str, str], Embedded],
           thresholds: Thresholds) -> list[Suspect]:
    """The suspects of one plan."""
    view = "whole" if plan.kind == "duplicate" else "core"
    query = embedded[plan.query]
    pool = [embedded[key] for key in plan.pool]
    matrix = np.concatenate([getattr(e, view) for e in pool])
    owner = np.concatenate([np.full(len(e), i) for i, e in enumerate(pool)]).astype(np.int64)
    offset = np.concatenate([np.arange(len(e)) for e in pool]).astype(np.int64)
    index, distance = nearest_two(getattr(query, view), matrix)
    ratio = ratios(distance)
    if plan.kind == "duplicate":
        hit = ((distance[:, 0] <= thresholds.duplicate_distance)
               | (ratio <= thresholds.duplicate_ratio))
    else:
        hit = ratio <= thresholds.twin_ratio
    suspects = []
    for q in np.flatnonzero(hit & (index[:, 0] >= 0)):
        j = index[q, 0]
        other = pool[owner[j]]
        suspects.append(Suspect(
            plan.kind, str(query.ids[q]), query.survey, query.split, str(other.ids[offset[j]]),
            other.survey, other.split, float(distance[q, 0]), float(ratio[q]),
            bool(query.groups[q] == other.groups[offset[j]])))
    return suspects


def _pool_name(pool: tuple[tuple[str, str], ...]) -> str:
    """`sdss/train+test` for the splits of each survey of a pool."""
    surveys: dict[str, list[str]] = {}
    for survey, split in pool:
        surveys.setdefault(survey, []).append(split)
    return " ".join(f"{s}/{'+'.join(splits)}" for s, splits in surveys.items())


def _drop_mirrored(suspects: list[Suspect], seen: set[frozenset] | None = None) -> list[Suspect]:
    """A duplicate pair of two query splits (test and validation) is found from both sides:
    keep the first (`seen`: the pairs of earlier searches, updated)."""
    seen = set() if seen is None else seen
    out = []
    for s in suspects:
        pair = frozenset([(s.query_survey, s.query_id), (s.neighbour_survey, s.neighbour_id)])
        if s.kind == "duplicate" and pair in seen:
            continue
        seen.add(pair)
        out.append(s)
    return out


# --- reading the dataset -------------------------------------------------------------------

def _split_of(name: str) -> str | None:
    match = _SHARD.match(name)
    return match["split"] if match else None


def available_splits(ref: DataReference) -> list[tuple[str, str]]:
    """The registry's (survey, split)s that have shards in the dataset, in registry order."""
    if ref.local:
        names = [str(p.relative_to(ref.location)) for p in Path(ref.location).glob(
            f"{DATA_DIR}/*/*.parquet")]
    else:
        import huggingface_hub

        try:
            names = huggingface_hub.list_repo_files(ref.location, repo_type="dataset",
                                                    revision=ref.revision)
        except Exception as exc:  # network, auth: the reference itself was checked already
            raise SommelierError(f"{ref}: cannot list its files ({type(exc).__name__})") from None
    found = set()
    for name in names:
        parts = Path(name).parts
        if len(parts) == 3 and parts[0] == DATA_DIR and (split := _split_of(parts[2])):
            found.add((parts[1], split))
    return [(s, p) for s, survey in R.SURVEYS.items() for p in survey.splits if (s, p) in found]


def _batches(data: str, survey: str, split: str, revision: str | None,
             batch_size: int = 256) -> tuple[int, Iterator[dict]]:
    """Rows of one split, images undecoded, batch by batch."""
    import datasets

    from .load import load_split

    dataset = load_split(data, survey, split, revision,
                         columns=["id_str", "group_id", IMAGE_COLUMN])
    dataset = dataset.cast_column(IMAGE_COLUMN, datasets.Image(decode=False))
    return len(dataset), dataset.iter(batch_size=batch_size)


def audit(data: str | os.PathLike, revision: str | None = None,
          thresholds: Thresholds | None = None, progress: bool = True) -> AuditReport:
    """Embed every image of the dataset and search each evaluation split for suspects."""
    from tqdm import tqdm

    from .load import resolve

    started = time.perf_counter()
    thresholds = thresholds or Thresholds()
    ref = resolve(data, revision)
    available = available_splits(ref)
    if not query_splits(available):
        raise SommelierError(f"{ref}: no evaluation split to audit (found "
                             f"{', '.join('/'.join(k) for k in available) or 'no shards'})")
    report = AuditReport(str(ref), thresholds)
    embedded: dict[tuple[str, str], Embedded] = {}
    readers = {key: _batches(os.fspath(data), *key, revision) for key in available}
    with tqdm(total=sum(n for n, _ in readers.values()), unit="image", desc="embedding",
              disable=not progress) as bar:
        for key, (_, batches) in readers.items():
            embedded[key] = embed_rows(*key, batches, bar)
    for key, e in embedded.items():
        report.images["/".join(key)] = len(e)
        if e.undecodable:
            report.undecodable["/".join(key)] = e.undecodable
    seen: set[frozenset] = set()
    for plan in plans(available):
        found = _drop_mirrored(search(plan, embedded, thresholds), seen)
        report.suspects.extend(found)
        report.comparisons.append(Comparison(
            plan.kind, "/".join(plan.query), _pool_name(plan.pool),
            len(embedded[plan.query]), len(found)))
    report.seconds = time.perf_counter() - started
    return report


# --- output --------------------------------------------------------------------------------

def suspects_frame(suspects: list[Suspect]):
    import pandas as pd

    columns = [f.name for f in Suspect.__dataclass_fields__.values()]
    return pd.DataFrame([asdict(s) for s in suspects], columns=columns)


def check_report_path(path: str | os.PathLike) -> None:
    """Refuse an output file type before the audit runs, not after."""
    if Path(path).suffix not in REPORT_SUFFIXES:
        raise ArgumentError("out", f"{os.fspath(path)!r}: use a name ending in "
                                   f"{', '.join(REPORT_SUFFIXES)}")


def write_report(report: AuditReport, path: str | os.PathLike) -> None:
    """`.json`: the whole report; `.csv`/`.parquet`: one row per suspect. Written atomically."""
    from ..jsonfile import write_json
    from ..tables import write_table

    check_report_path(path)
    if Path(path).suffix == ".json":
        write_json(path, report.to_dict())
    else:
        write_table(suspects_frame(report.suspects), path)


def summary(report: AuditReport, show: int = 20) -> str:
    """The printed report: one row per search, then the closest suspects."""
    from tabulate import tabulate

    lines = [f"{report.data}: {sum(report.images.values())} images, descriptor "
             f"{report.descriptor}, {report.seconds:.1f} s"]
    if report.undecodable:
        lines.append("undecodable (skipped): " + ", ".join(
            f"{k} {n}" for k, n in report.undecodable.items()))
    lines.append(tabulate([[c.kind, c.query, c.reference, c.queries, c.suspects]
                           for c in report.comparisons],
                          headers=["kind", "query", "reference", "images", "suspects"]))
    if not report.suspects:
        lines.append("no suspects")
        return "\n".join(lines)
    closest = sorted(report.suspects, key=lambda s: (s.kind, s.ratio, s.distance))[:show]
    lines.append(f"\n{len(report.suspects)} suspects"
                 + (f" (closest {show} shown)" if len(report.suspects) > show else "") + ":")
    lines.append(tabulate(
        [[s.kind, s.query_id, f"{s.query_survey}/{s.query_split}", s.neighbour_id,
          f"{s.neighbour_survey}/{s.neighbour_split}", f"{s.distance:.5f}", f"{s.ratio:.3f}",
          "yes" if s.same_group else ""] for s in closest],
        headers=["kind", "query", "split", "neighbour", "split", "distance", "ratio",
                 "same group"]))
    return "\n".join(lines)
