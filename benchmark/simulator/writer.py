"""`simulate`: one population, three surveys, written as upstream-style releases.

Output folder (built in a temporary folder beside it and renamed into place only when
complete, so an interrupted run never leaves a folder that looks finished):
    gz2/, gz_decals/, gz_ukidss/   Hugging Face Hub-layout releases: README.md + data/*.parquet
                                   (id_str, image, ra/dec except UKIDSS, vote columns)
    id_map.csv                     ukidss,sdss: the id of each UKIDSS galaxy in SDSS
    truth.parquet                  physical parameters and each galaxy's id in every survey
    probabilities.parquet          per survey view, the canonical answer probabilities its
                                   votes were drawn from (what vote-noise ceilings are checked
                                   against)
    simulation.json                the arguments and package version
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from .. import __version__
from .. import registry as R
from ..atomic import atomic_directory, check_replaceable
from ..errors import SommelierError
from ..hub_layout import configs_front_matter, write_split
from .identifiers import ID_STYLES, observed_coordinates
from .population import Population, draw_population
from .randomness import stream
from .render import encode_jpeg, render
from .shifts import ALL, parse_shifts, shifted_optics
from .surveys import SurveyOptics
from .visibility import measure
from .votes import vote

MANIFEST = "simulation.json"
TRUTH = "truth.parquet"
PROBABILITIES = "probabilities.parquet"
ID_MAP = "id_map.csv"
SPLITS: tuple[str, ...] = ("train", "test")
TEST_SHARE = 0.2
ROWS_PER_SHARD = 5000
#: Pixels rendered per batch; bounds memory whatever the image size.
PIXELS_PER_BATCH = 2**19
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 16, 1024


@dataclass(frozen=True)
class SimulationConfig:
    """The arguments of one simulation; the same config gives byte-identical files."""

    n: int = 1500
    seed: int = 0
    image_size: int = 64
    shifts: tuple[str, ...] = (ALL,)

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise SommelierError(f"the number of galaxies must be a positive integer, not {self.n!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SommelierError(f"the seed must be a non-negative integer, not {self.seed!r}")
        if not (isinstance(self.image_size, int)
                and MIN_IMAGE_SIZE <= self.image_size <= MAX_IMAGE_SIZE):
            raise SommelierError(f"the image size must be an integer from {MIN_IMAGE_SIZE} to "
                                 f"{MAX_IMAGE_SIZE} pixels, not {self.image_size!r}")
        object.__setattr__(self, "shifts", parse_shifts(self.shifts))


@dataclass
class SurveyRelease:
    """One survey's view of the population: which galaxies, their ids and their rows."""

    optics: SurveyOptics
    index: np.ndarray  # galaxies of the population this survey saw
    table: pd.DataFrame  # id_str, (ra, dec), vote columns; images are added when written
    split: np.ndarray  # "train" / "test" per row
    probabilities: pd.DataFrame  # canonical answer probabilities the votes were drawn from


def observe_survey(pop: Population, optics: SurveyOptics, seed: int) -> SurveyRelease:
    """Everything about a survey's release except its images: ids, coordinates, votes."""
    index = np.flatnonzero(pop.in_survey(optics.name))
    seen = pop.take(index)
    rng = stream(seed, optics.name, "catalogue")
    columns: dict[str, np.ndarray] = {}
    ra, dec = seen.ra, seen.dec
    if optics.has_coordinates:
        ra, dec = observed_coordinates(ra, dec, optics.astrometry_sigma, rng)
    columns["id_str"] = ID_STYLES[optics.id_style](ra, dec, rng)
    if optics.has_coordinates:
        columns.update(ra=ra, dec=dec)
    ballots = vote(measure(seen, optics), optics, stream(seed, optics.name, "votes"))
    table = pd.concat([pd.DataFrame(columns), ballots.columns], axis=1)
    test = stream(seed, optics.name, "split").random(len(index)) < TEST_SHARE
    return SurveyRelease(optics, index, table, np.where(test, "test", "train"),
                         ballots.probabilities)


def rendered_batches(pop: Population, optics: SurveyOptics, size: int,
                     seed: int) -> Iterator[np.ndarray]:
    """(B, S, S, 3) RGB images of every galaxy of `pop` as the survey shows it, in order, a
    batch of bounded memory at a time (one noise stream per survey and seed)."""
    rng = stream(seed, optics.name, "noise")
    batch = max(1, PIXELS_PER_BATCH // size**2)
    for start in range(0, len(pop), batch):
        yield render(pop.take(np.arange(start, min(start + batch, len(pop)))), optics, size, rng)


def render_jpegs(pop: Population, optics: SurveyOptics, size: int, seed: int,
                 progress=None) -> list[bytes]:
    """JPEG bytes of every galaxy of `pop` as the survey shows it, batch by batch."""
    jpegs: list[bytes] = []
    for images in rendered_batches(pop, optics, size, seed):
        jpegs.extend(encode_jpeg(rgb) for rgb in images)
        if progress is not None:
            progress.update(len(images))
    return jpegs


def _features(release: SurveyRelease):
    """The release's column types, as the real Hugging Face releases declare them."""
    import datasets

    types = {"id_str": datasets.Value("string"), "image": datasets.Image(),
             "ra": datasets.Value("float64"), "dec": datasets.Value("float64")}
    for column, values in release.table.items():
        if column not in types:
            types[column] = datasets.Value(str(values.dtype))
    return datasets.Features({c: types[c] for c in ["id_str", "image", *release.table.columns[1:]]})


def _write_release(release: SurveyRelease, jpegs: list[bytes], folder: Path) -> None:
    import datasets

    frame = release.table.copy()
    frame.insert(1, "image", [{"bytes": b, "path": None} for b in jpegs])
    features = _features(release)
    configs = {}
    for split in SPLITS:
        rows = frame[release.split == split].reset_index(drop=True)
        dataset = datasets.Dataset.from_pandas(rows, features=features, preserve_index=False)
        write_split(dataset, folder / "data", split, max(1, math.ceil(len(rows) / ROWS_PER_SHARD)))
        configs[split] = f"data/{split}-*.parquet"
    survey = R.SURVEYS[release.optics.name]
    card = (f"# Simulated {survey.title}\n\nA simulated stand-in for `{survey.hf_release}` written "
            f"by the Galaxy Sommelier survey simulator: {len(frame)} galaxies, columns named as "
            f"in the real release (`{survey.hf_scheme}`).\n")
    (folder / "README.md").write_text(configs_front_matter({"default": configs}) + "\n" + card)


def _truth(pop: Population, releases: Iterable[SurveyRelease]) -> pd.DataFrame:
    truth = pop.to_frame()
    truth.insert(0, "galaxy", np.arange(len(pop)))
    for release in releases:
        ids = np.full(len(pop), None, dtype=object)
        ids[release.index] = release.table["id_str"].to_numpy()
        truth[f"{release.optics.name}_id_str"] = ids
    return truth


def probability_column(feature: str) -> str:
    """The column of `PROBABILITIES` that holds a canonical feature's probability."""
    return f"{feature}_probability"


def _probabilities(releases: Iterable[SurveyRelease]) -> pd.DataFrame:
    """One row per survey view: survey, upstream id_str, population index (`galaxy` of the
    truth), split and a `<feature>_probability` per canonical feature (NaN where the survey's
    tree lacks its question). Kept out of the releases: no real catalogue has them."""
    frames = []
    for release in releases:
        keys = pd.DataFrame({"survey": release.optics.name, "id_str": release.table["id_str"],
                             "galaxy": release.index, "split": release.split})
        probs = release.probabilities.reindex(columns=list(R.ALL_FEATURES))
        frames.append(pd.concat([keys, probs.rename(columns=probability_column)], axis=1))
    return pd.concat(frames, ignore_index=True)


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    """Parquet with plain `string` columns (pandas would write `large_string`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f
                        for f in table.schema], metadata=table.schema.metadata)
    pq.write_table(table.cast(schema), path)


def _id_map(releases: dict[str, SurveyRelease], n: int) -> pd.DataFrame:
    sdss = np.full(n, None, dtype=object)
    sdss[releases["sdss"].index] = releases["sdss"].table["id_str"].to_numpy()
    ukidss = releases["ukidss"]
    return pd.DataFrame({"ukidss": ukidss.table["id_str"], "sdss": sdss[ukidss.index]})


def simulate(out: str | Path, n: int = 1500, seed: int = 0, image_size: int = 64,
             shifts: Iterable[str] = (ALL,), progress: bool = True) -> Path:
    """Simulate `n` galaxies seen by SDSS, DECaLS and UKIDSS and write them under `out`.

    `shifts` names the survey differences left on ('all' by default, 'none' for none); see
    `benchmark.simulator.shifts.SHIFTS`. Returns the output folder.
    """
    from tqdm import tqdm

    config = SimulationConfig(n, seed, image_size, tuple(shifts))
    out = Path(out).expanduser().resolve()
    check_replaceable(out, MANIFEST, "`sommelier sim`")
    pop = draw_population(config.n, stream(config.seed, "population"))
    optics = shifted_optics(config.shifts)
    releases = {name: observe_survey(pop, optics[name], config.seed) for name in R.SURVEYS}
    try:
        with atomic_directory(out) as tmp, tqdm(
                total=sum(len(r.index) for r in releases.values()), unit="image",
                desc="rendering", disable=not progress) as bar:
            for release in releases.values():
                jpegs = render_jpegs(pop.take(release.index), release.optics, config.image_size,
                                     config.seed, bar)
                _write_release(release, jpegs, tmp / release.optics.release)
            _write_table(_truth(pop, releases.values()), tmp / TRUTH)
            _write_table(_probabilities(releases.values()), tmp / PROBABILITIES)
            _id_map(releases, len(pop)).to_csv(tmp / ID_MAP, index=False)
            manifest = {**asdict(config), "version": __version__,
                        "surveys": {name: {s: int((r.split == s).sum()) for s in SPLITS}
                                    for name, r in releases.items()}}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    except OSError as exc:
        raise SommelierError(f"cannot write the simulation to {out}: {exc.strerror or exc}") from exc
    return out
