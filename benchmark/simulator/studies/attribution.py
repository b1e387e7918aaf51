"""Which simulated shift explains how much of a model's drop from SDSS to UKIDSS.

The simulator switches each survey difference (`shifts.SHIFTS`) on and off on its own, so a
model's out-of-distribution drop on the UKIDSS test galaxies of a simulated benchmark can be
taken apart. The same galaxies are shown
- as SDSS shows them, with SDSS volunteers (`sdss`: the survey models train on);
- as UKIDSS with every shift off (`none`: only the campaign facts differ from SDSS, that is
  the volunteer count, the answer scheme and other draws of noise and votes);
- as UKIDSS with one shift on (`<shift> only`) and with all but one (`all but <shift>`);
- as UKIDSS as simulated (`all`).
Every view is rendered, stored as JPEG and decoded, and voted on as `sommelier sim` does it,
with the simulation's seed and random streams: `sdss` and `all` are the galaxies' own SDSS and
UKIDSS images and votes, and the UKIDSS views share their random draws, so they differ only
by the shifts. A model predicts every view; each feature is scored with Pearson r where the
truth is not null. A shift's part of a feature's drop r(sdss) - r(all) is
- alone: r(sdss) - r(it only), what it costs on its own (with the campaign part);
- last: r(all but it) - r(all), what it costs added to all the others;
and their shares divide them by the drop. Shares sum to 1 over the shifts only where the
shifts do not interact; two shifts that each hide the same cue both have a large alone share
and a small last share.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from tabulate import tabulate

from ... import registry as R
from ...errors import ArgumentError, SommelierError
from ...jsonfile import read_json, write_json
from ..population import Population, draw_population
from ..randomness import stream
from ..render import encode_jpeg
from ..shifts import shifted_optics
from ..surveys import REFERENCE, SurveyOptics
from ..visibility import measure
from ..votes import canonical_fractions, cast_votes
from ..writer import MANIFEST, TRUTH, SimulationConfig, rendered_batches
from .shift_probe import TARGET, shift_settings

FEATURES = R.BENCHMARK_FEATURES
#: A model: (B, S, S, 3) uint8 RGB images -> (B, 9) vote fractions of `FEATURES`.
Predict = Callable[[np.ndarray], np.ndarray]
DEFINITIONS = {
    "drop": "r(sdss) - r(all): the galaxies as SDSS shows them, against UKIDSS as simulated",
    "campaign": "r(sdss) - r(none): UKIDSS with every shift off (volunteer count, answer "
                "scheme, other noise and vote draws); part of every alone value",
    "alone": "r(sdss) - r(<shift> only)",
    "last": "r(all but <shift>) - r(all)",
    "shares": "alone and last divided by the drop; they sum to 1 over the shifts only where "
              "the shifts do not interact",
}


@dataclass(frozen=True)
class Simulation:
    """A `sommelier sim` folder, its population drawn again from its settings."""

    folder: Path
    config: SimulationConfig
    population: Population
    truth: pd.DataFrame  # galaxy and its UKIDSS id_str (None where UKIDSS did not see it)


def _config(manifest: Path) -> SimulationConfig:
    settings = read_json(manifest, what="simulation settings")
    try:
        return SimulationConfig(settings["n"], settings["seed"], settings["image_size"],
                                tuple(settings["shifts"]))
    except (KeyError, TypeError) as exc:
        raise SommelierError(f"{manifest}: not the settings of a simulation ({exc!r})") from None
    except SommelierError as exc:
        raise SommelierError(f"{manifest}: {exc}") from None


def read_simulation(folder: str | Path) -> Simulation:
    """The simulation in `folder`, refused unless a fresh draw of its population matches its
    truth table: re-rendering is only faithful with the same simulator."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise SommelierError(f"{folder}: not a simulation (no {MANIFEST}); make one with "
                             f"`sommelier sim --out {folder}`")
    config = _config(folder / MANIFEST)
    if not config.shifts:
        raise SommelierError(f"{folder} was simulated with every shift off: its UKIDSS differs "
                             "from SDSS by no shift, so there is no drop to attribute")
    column = f"{TARGET}_id_str"
    try:
        truth = pd.read_parquet(folder / TRUTH, columns=["galaxy", "ra", column])
    except (OSError, ValueError, KeyError) as exc:
        raise SommelierError(f"{folder / TRUTH}: cannot read the simulation's truth "
                             f"({exc})") from None
    population = draw_population(config.n, stream(config.seed, "population"))
    if not (np.array_equal(truth["ra"].to_numpy(), population.ra)
            and np.array_equal(truth[column].notna().to_numpy(), population.in_survey(TARGET))):
        raise SommelierError(f"{folder}: its {TRUTH} is not the population its {MANIFEST} "
                             "describes (made by another simulator version?); simulate it again")
    return Simulation(folder, config, population, truth[["galaxy", column]])


@dataclass(frozen=True)
class ScoredGalaxies:
    """Which galaxies are rendered and scored: a benchmark's UKIDSS test, in its simulation."""

    simulation: Simulation
    data: str  # the benchmark dataset whose UKIDSS test they are
    galaxies: np.ndarray  # population indices, in simulation order


def scored_galaxies(sim: str | Path | Simulation, ukidss_ids: Iterable[str], data: str,
                    n: int | None = None) -> ScoredGalaxies:
    """The galaxies of `sim` with these upstream UKIDSS ids (the UKIDSS test of the benchmark
    dataset `data`): at most the first `n` in simulation order (a random sample, as the
    population is drawn at random, and rendering can stop after the last of them)."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ArgumentError("n", f"must be a positive number of galaxies, not {n!r}")
    simulation = sim if isinstance(sim, Simulation) else read_simulation(sim)
    ids = pd.Index(list(ukidss_ids))
    known = simulation.truth.dropna().set_index(f"{TARGET}_id_str")["galaxy"]
    unknown = ids[~ids.isin(known.index)]
    if len(unknown) or not len(ids):
        example = f" (e.g. {unknown[0]})" if len(unknown) else ""
        raise SommelierError(
            f"{data}: {len(unknown)} of its {len(ids)} {TARGET} {R.PRIMARY_SPLIT} galaxies"
            f"{example} are not in the simulation {simulation.folder}; attribute a dataset "
            f"built from it (`sommelier data build --source sim:{simulation.folder}`)")
    galaxies = np.sort(known.loc[ids].to_numpy(np.int64))
    return ScoredGalaxies(simulation, data, galaxies[:n])


@dataclass(frozen=True)
class View:
    """The scored galaxies as one survey shows them: what the model sees, what it is scored
    against."""

    images: np.ndarray  # (N, S, S, 3) uint8, decoded from the JPEG a release would hold
    fractions: np.ndarray  # (N, 9) canonical vote fractions, NaN where not asked


def _decoded_jpeg(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(encode_jpeg(rgb))) as image:
        return np.asarray(image.convert("RGB"))


def _release_images(seen: Population, optics: SurveyOptics, config: SimulationConfig,
                    rows: np.ndarray) -> np.ndarray:
    """Images of the sorted `rows` of a survey's galaxies as its release holds them: the
    survey is rendered in order (one noise stream runs through it) up to the last row."""
    images, start = [], 0
    for batch in rendered_batches(seen, optics, config.image_size, config.seed):
        stop = start + len(batch)
        here = rows[(rows >= start) & (rows < stop)] - start
        images.extend(_decoded_jpeg(batch[i]) for i in here)
        if stop > rows[-1]:
            break
        start = stop
    return np.stack(images)


def survey_view(galaxies: ScoredGalaxies, optics: SurveyOptics) -> View:
    """The scored galaxies as the survey of `optics` shows them and its volunteers vote, with
    the simulation's random streams (UKIDSS's galaxies are all SDSS galaxies too)."""
    sim = galaxies.simulation
    members = np.flatnonzero(sim.population.in_survey(optics.name))
    rows = np.searchsorted(members, galaxies.galaxies)
    seen = sim.population.take(members)
    votes = cast_votes(measure(seen, optics), optics,
                       stream(sim.config.seed, optics.name, "votes"))
    fractions = canonical_fractions(votes, optics.scheme).to_numpy(np.float64)[rows]
    return View(_release_images(seen, optics, sim.config, rows), fractions)


@dataclass(frozen=True)
class SettingScore:
    """One view of the galaxies and the model's Pearson r on it, per feature, with the number
    of galaxies scored (those whose truth is not null)."""

    label: str
    survey: str
    shifts: tuple[str, ...]
    r: dict[str, float]
    n: dict[str, int]


def _predictions(predict: Predict, images: np.ndarray) -> np.ndarray:
    pred = np.asarray(predict(images), dtype=np.float64)
    if pred.shape != (len(images), len(FEATURES)):
        raise SommelierError(f"the model returned shape {pred.shape} for {len(images)} images; "
                             f"it must return ({len(images)}, {len(FEATURES)}): "
                             f"{', '.join(FEATURES)}")
    return pred


def _centred(values: np.ndarray, known: np.ndarray, n: np.ndarray) -> np.ndarray:
    kept = np.where(known, values, 0.0)
    return np.where(known, kept - kept.sum(axis=0) / n, 0.0)


def pearson(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, Pearson r where the truth is not null (the evaluator's r with no vote
    threshold; NaN where undefined) and the number of galaxies it is computed on."""
    known = ~np.isnan(truth)
    n = known.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        x, y = _centred(pred, known, n), _centred(truth, known, n)
        r = (x * y).sum(axis=0) / np.sqrt((x * x).sum(axis=0) * (y * y).sum(axis=0))
    return np.clip(r, -1.0, 1.0), n


def score_view(predict: Predict, view: View) -> tuple[np.ndarray, np.ndarray]:
    """Per feature, Pearson r of the model's predictions where the truth is not null, and n."""
    return pearson(_predictions(predict, view.images), view.fractions)


@dataclass(frozen=True)
class ShiftPart:
    """One shift's part of a drop: as r differences, and as shares of the drop."""

    alone: float
    last: float
    alone_share: float
    last_share: float


@dataclass(frozen=True)
class FeatureAttribution:
    """A feature's drop from SDSS to UKIDSS and each shift's part in it (see `DEFINITIONS`)."""

    feature: str
    r_sdss: float
    r_ukidss: float
    drop: float
    campaign: float
    shifts: dict[str, ShiftPart]


def _share(part: float, drop: float) -> float:
    return part / drop if drop != 0 else float("nan")


def attribute_drop(feature: str, r_sdss: float, r_ukidss: Mapping[tuple[str, ...], float],
                   on: tuple[str, ...]) -> FeatureAttribution:
    """Split a feature's drop between the shifts `on`, from its r on SDSS and on each UKIDSS
    view (keyed by the shifts switched on)."""
    drop = r_sdss - r_ukidss[on]
    parts = {}
    for shift in on:
        alone = r_sdss - r_ukidss[(shift,)]
        last = r_ukidss[tuple(s for s in on if s != shift)] - r_ukidss[on]
        parts[shift] = ShiftPart(alone, last, _share(alone, drop), _share(last, drop))
    return FeatureAttribution(feature, r_sdss, r_ukidss[on], drop, r_sdss - r_ukidss[()], parts)


@dataclass(frozen=True)
class Attribution:
    """Every view's scores and each shift's part of the drop: per feature, for the mean over
    the nine features, and per question (the mean over its features)."""

    simulation: str
    data: str
    model: str
    galaxies: int
    shifts: tuple[str, ...]
    settings: tuple[SettingScore, ...]
    features: tuple[FeatureAttribution, ...]  # the nine features, then "mean"
    questions: tuple[FeatureAttribution, ...]

    def to_json(self) -> dict:
        return {"definitions": DEFINITIONS, **asdict(self)}


def _settings(on: tuple[str, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(label, survey, shifts on) of every view: SDSS first, then the UKIDSS views."""
    return [(REFERENCE, REFERENCE, ())] + [(label, TARGET, shifts)
                                           for label, shifts in shift_settings(on).items()]


def _scores(galaxies: ScoredGalaxies, predict: Predict,
            progress: bool) -> tuple[SettingScore, ...]:
    """Every view rendered and scored; views that show the same thing are rendered once."""
    from tqdm import tqdm

    config = galaxies.simulation.config
    done: dict[tuple[str, tuple[str, ...]], tuple[np.ndarray, np.ndarray]] = {}
    scores = []
    for label, survey, shifts in tqdm(_settings(config.shifts), desc="rendering",
                                      unit="view", disable=not progress):
        key = (survey, shifts)
        if key not in done:
            done[key] = score_view(predict, survey_view(galaxies, shifted_optics(shifts)[survey]))
        r, n = done[key]
        scores.append(SettingScore(label, survey, shifts, dict(zip(FEATURES, r.tolist())),
                                   dict(zip(FEATURES, n.astype(int).tolist()))))
    return tuple(scores)


def _mean_attribution(name: str, features: tuple[str, ...], scores: tuple[SettingScore, ...],
                      on: tuple[str, ...]) -> FeatureAttribution:
    """`attribute_drop` of the mean r over `features` (one feature, a question's, all nine)."""
    def mean_r(score: SettingScore) -> float:
        return float(np.mean([score.r[f] for f in features]))

    sdss = next(s for s in scores if s.survey == REFERENCE)
    ukidss = {s.shifts: mean_r(s) for s in scores if s.survey == TARGET}
    return attribute_drop(name, mean_r(sdss), ukidss, on)


def attribute(galaxies: ScoredGalaxies, predict: Predict, model: str = "a prediction function",
              progress: bool = True) -> Attribution:
    """How much of the model's drop from SDSS to UKIDSS on `galaxies` each shift explains."""
    on = galaxies.simulation.config.shifts
    scores = _scores(galaxies, predict, progress)
    features = [_mean_attribution(f, (f,), scores, on) for f in FEATURES]
    questions = [_mean_attribution(q, tuple(f for f in FEATURES if R.QUESTION_OF_FEATURE[f] == q),
                                   scores, on) for q in R.BENCHMARK_QUESTIONS]
    return Attribution(str(galaxies.simulation.folder), galaxies.data, model,
                       len(galaxies.galaxies), on, scores,
                       (*features, _mean_attribution("mean", FEATURES, scores, on)),
                       tuple(questions))


def write_attribution(attribution: Attribution, path: str | Path) -> None:
    """The attribution as JSON (atomic; the same attribution gives the same bytes)."""
    write_json(path, attribution.to_json())


def _number(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:.2f}"


def attribution_table(attribution: Attribution) -> str:
    """Per feature: r on SDSS and UKIDSS, the drop, its campaign part and, per shift, its
    alone / last shares; `sum` shows how far the shifts interact."""
    headers = ["feature", "n", "r sdss", "r ukidss", "drop", "campaign",
               *attribution.shifts, "sum"]
    n = next(s.n for s in attribution.settings if s.label == "all")
    rows = []
    for a in attribution.features:
        parts = a.shifts.values()
        shares = [f"{_number(p.alone_share)} / {_number(p.last_share)}" for p in parts]
        total = (f"{_number(sum(p.alone_share for p in parts))} / "
                 f"{_number(sum(p.last_share for p in parts))}")
        rows.append([a.feature, n.get(a.feature, ""), f"{a.r_sdss:.3f}", f"{a.r_ukidss:.3f}",
                     f"{a.drop:+.3f}", _number(_share(a.campaign, a.drop)), *shares, total])
    note = ("Shift columns: share of the drop r(sdss) - r(ukidss) it explains alone (r(sdss) - "
            "r(it only)) / added last (r(all but it) - r(all)); campaign: share that no shift "
            "explains (UKIDSS with every shift off). Shares of a drop near 0 are noise.")
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    return (f"{attribution.model} on {attribution.galaxies} simulated {TARGET} test galaxies "
            f"of {attribution.data}\n\n{table}\n\n{note}")


#: A drop below this is not split between shifts in the summary: about the sampling noise of
#: an r on a few hundred galaxies.
MIN_DROP = 0.05


def question_summary(attribution: Attribution) -> list[str]:
    """One line per benchmark question (its features' mean r): r on SDSS and UKIDSS, and the
    shift that explains most of the drop (the largest sum of its alone and last shares)."""
    lines = []
    for a in attribution.questions:
        line = f"  {a.feature}: r {a.r_sdss:.2f} -> {a.r_ukidss:.2f}"
        if not a.drop >= MIN_DROP:
            lines.append(f"{line}, too small a drop to split")
            continue
        shift, part = max(a.shifts.items(), key=lambda item: np.nan_to_num(
            item[1].alone_share + item[1].last_share, nan=-np.inf))
        lines.append(f"{line}; most of the drop: {shift} (alone {part.alone_share:.0%}, "
                     f"added last {part.last_share:.0%})")
    return lines
