"""Is the simulated shift real? A simple model trained on SDSS images, scored on UKIDSS.

Every galaxy of one population is rendered as SDSS and as UKIDSS show it and gets each
survey's volunteer votes (footprints are ignored: the probe asks how the surveys differ, not
which galaxies they share). A closed-form ridge regression on rotation-invariant image
features of the SDSS training galaxies predicts the nine benchmark vote fractions; held-out
galaxies are scored, per feature and only where the truth is not null, with Pearson r on
their SDSS images against SDSS votes and on their UKIDSS images against UKIDSS votes.
Pearson r ignores a uniform offset or scale of the predictions, so the drop measures lost
ranking ability, not only the surveys' different vote means.
`python -m benchmark.simulator.studies.shift_probe` prints the table in docs/simulator.md.
"""

from __future__ import annotations

import argparse
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ... import registry as R
from ..population import Population, draw_population
from ..randomness import stream
from ..shifts import ALL, NONE, parse_shifts, shifted_optics
from ..surveys import REFERENCE, SurveyOptics
from ..visibility import measure
from ..votes import canonical_fractions, cast_votes
from ..writer import rendered_batches

#: The survey the model never trains on.
TARGET = "ukidss"
#: Share of galaxies held out from training (scored in both surveys).
HELD_OUT = 0.3
#: Ring edges as fractions of the half-width of the image.
RING_EDGES = (0.0, 0.08, 0.16, 0.26, 0.38, 0.52, 0.7, 1.0)
#: Azimuthal harmonics measured in every ring (m = 2 shows bars and two-armed spirals).
HARMONICS = (1, 2, 3, 4)
#: Ridge penalties tried, relative to the number of training galaxies.
PENALTIES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
#: Share of the training galaxies used to pick the penalty.
VALIDATION = 0.25


def _rings(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(rings, S, S) ring membership and (S, S) position angle of every pixel."""
    grid = np.arange(size) - (size - 1) / 2.0
    x, y = np.meshgrid(grid, -grid)
    radius = np.hypot(x, y) / (size / 2.0)
    edges = np.asarray(RING_EDGES)
    member = (radius >= edges[:-1, None, None]) & (radius < edges[1:, None, None])
    return member.astype(np.float32), np.arctan2(y, x)


def image_features(rgb: np.ndarray) -> np.ndarray:
    """(B, S, S, 3) uint8 -> (B, F) features that do not change when a galaxy is rotated.

    Per channel and ring: mean light and the amplitude of each azimuthal harmonic relative
    to it (shape: round, lopsided, barred, armed); per harmonic and pair of neighbouring rings
    the cosine and sine of the turn of its phase ((1, 0) where a bar holds the phase still,
    elsewhere where spiral arms wind it).
    """
    light = rgb.astype(np.float32) / 255.0
    member, angle = _rings(rgb.shape[1])
    area = np.maximum(member.sum(axis=(1, 2)), 1.0)  # tiny images leave the centre ring empty
    mean = np.einsum("bxyc,rxy->bcr", light, member) / area
    waves = np.exp(1j * np.asarray(HARMONICS)[:, None, None] * angle).astype(np.complex64)
    moment = np.einsum("bxyc,rxy,mxy->bcrm", light, member, waves) / area[:, None]
    shape = moment / np.maximum(mean[..., None], 1e-3)
    total = shape.sum(axis=1)  # all channels together: (B, rings, harmonics)
    turn = total[:, 1:] * np.conj(total[:, :-1])
    turn /= np.maximum(np.abs(turn), 1e-6)
    parts = [np.log(mean + 1e-3), np.abs(shape), turn.real, turn.imag]
    return np.concatenate([p.reshape(len(rgb), -1) for p in parts], axis=1)


def _standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    centre, scale = train.mean(axis=0), train.std(axis=0) + 1e-6
    return [(x - centre) / scale for x in (train, *others)]


def _ridge(x: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, float]:
    """Weights and intercept minimising |y - x w - b|^2 + penalty |w|^2 (standardised x)."""
    gram = x.T @ x + penalty * np.eye(x.shape[1])
    weights = np.linalg.solve(gram, x.T @ (y - y.mean()))
    return weights, float(y.mean())


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def fit_feature(x: np.ndarray, y: np.ndarray,
                rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """A ridge model for one vote fraction; the penalty is picked on a validation part.

    The solves run on one BLAS thread: they are small, and on a shared machine a spinning
    second thread made them many times slower.
    """
    val = rng.random(len(y)) < VALIDATION
    scores = []
    with threadpool_limits(limits=1, user_api="blas"):
        for penalty in PENALTIES:
            w, b = _ridge(x[~val], y[~val], penalty * len(y))
            scores.append(_pearson(x[val] @ w + b, y[val]))
        w, b = _ridge(x, y, PENALTIES[int(np.argmax(scores))] * len(y))
    return lambda z: z @ w + b


def _survey_view(pop: Population, optics: SurveyOptics, size: int,
                 seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Image features and canonical vote fractions of every galaxy as `optics` shows it."""
    features = [image_features(rgb) for rgb in rendered_batches(pop, optics, size, seed)]
    votes = cast_votes(measure(pop, optics), optics, stream(seed, optics.name, "votes"))
    return np.concatenate(features), canonical_fractions(votes, optics.scheme)


def shift_probe(n: int = 3000, seed: int = 0, image_size: int = 32,
                shifts: Iterable[str] = (ALL,)) -> pd.DataFrame:
    """One row per benchmark feature: Pearson r on held-out SDSS and UKIDSS, and the drop."""
    pop = draw_population(n, stream(seed, "population"))
    optics = shifted_optics(parse_shifts(shifts))
    views = {name: _survey_view(pop, optics[name], image_size, seed)
             for name in (REFERENCE, TARGET)}
    test = stream(seed, "probe", "split").random(n) < HELD_OUT
    x_train, x_source, x_target = _standardise(views[REFERENCE][0][~test],
                                               views[REFERENCE][0][test],
                                               views[TARGET][0][test])
    rows = []
    for feature in R.BENCHMARK_FEATURES:
        y_train = views[REFERENCE][1][feature].to_numpy()[~test]
        known = ~np.isnan(y_train)
        model = fit_feature(x_train[known], y_train[known], stream(seed, "probe", feature))
        row = {"feature": feature}
        for name, x in ((REFERENCE, x_source), (TARGET, x_target)):
            truth = views[name][1][feature].to_numpy()[test]
            scored = ~np.isnan(truth)
            row[f"n_{name}"] = int(scored.sum())
            row[f"r_{name}"] = _pearson(model(x[scored]), truth[scored])
        row["drop"] = row[f"r_{REFERENCE}"] - row[f"r_{TARGET}"]
        rows.append(row)
    return pd.DataFrame(rows)


def shift_settings(on: Iterable[str] = (ALL,)) -> dict[str, tuple[str, ...]]:
    """Every shift of `on` switched on, none, each alone and each left out: which difference
    costs what (a simulation made with only some shifts on is taken apart into those)."""
    on = parse_shifts(on)
    settings = {ALL: on, NONE: ()}
    settings.update({f"{s} only": (s,) for s in on})
    settings.update({f"all but {s}": tuple(o for o in on if o != s) for s in on})
    return settings


def by_shift(n: int = 3000, seed: int = 0, image_size: int = 32) -> pd.DataFrame:
    """One row per shift setting: mean r on both surveys, mean drop and each feature's drop."""
    rows = []
    for label, shifts in shift_settings().items():
        table = shift_probe(n, seed, image_size, shifts).set_index("feature")
        rows.append({"shifts on": label, f"mean r {REFERENCE}": table[f"r_{REFERENCE}"].mean(),
                     f"mean r {TARGET}": table[f"r_{TARGET}"].mean(),
                     "mean drop": table["drop"].mean(), **table["drop"].to_dict()})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--shift", action="append", metavar="NAME",
                        help=f"a survey difference to keep on (repeatable; default '{ALL}')")
    parser.add_argument("--by-shift", action="store_true",
                        help="one row per shift setting (all, none, each alone, each left out)")
    args = parser.parse_args(argv)
    if args.by_shift:
        print(by_shift(args.n, args.seed, args.image_size).to_markdown(index=False,
                                                                        floatfmt=".3f"))
        return
    table = shift_probe(args.n, args.seed, args.image_size, args.shift or (ALL,))
    print(table.to_markdown(index=False, floatfmt=".3f"))
    means = table[[f"r_{REFERENCE}", f"r_{TARGET}", "drop"]].mean()
    print(f"\nmean r: {REFERENCE} {means.iloc[0]:.3f}, {TARGET} {means.iloc[1]:.3f}, "
          f"drop {means.iloc[2]:.3f}")


if __name__ == "__main__":
    main()
