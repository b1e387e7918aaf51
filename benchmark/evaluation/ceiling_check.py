"""The vote-noise ceiling against the r of the true probabilities, on a simulated UKIDSS test.

Simulates a population, builds the benchmark dataset from it and, for each benchmark feature,
sets the ceiling estimated from the labels alone (`benchmark.evaluation.ceilings`) beside the
Pearson r the evaluator gives the answer probabilities the simulator drew the votes from
(`probabilities.parquet`): the score of a perfect predictor. Images are not needed, so they
are rendered at the smallest size; `observed_check` skips them (and the build) altogether,
so that a large population can test the noise-dominated few-vote regime.
`python -m benchmark.evaluation.ceiling_check` prints the table in docs/simulator.md.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .. import registry as R
from .ceilings import vote_noise_ceiling
from .options import ScoreOptions
from .scoring import score_predictions
from .truth import truth_from_frame
from ..simulator.population import draw_population
from ..simulator.randomness import stream
from ..simulator.shifts import ALL, parse_shifts, shifted_optics
from ..simulator.votes import canonical_fractions
from ..simulator.writer import MIN_IMAGE_SIZE, PROBABILITIES, probability_column, observe_survey, simulate

FEATURES = R.BENCHMARK_FEATURES


def true_probabilities(sim: str | Path, survey: str) -> pd.DataFrame:
    """The simulator's probabilities of one survey as a prediction table (benchmark ids)."""
    probs = pd.read_parquet(Path(sim) / PROBABILITIES)
    probs = probs[probs["survey"] == survey]
    table = pd.DataFrame({"id_str": [R.make_id(survey, i) for i in probs["id_str"]]})
    for feature in FEATURES:
        table[feature] = probs[probability_column(feature)].to_numpy()
    return table


def compare(truth: pd.DataFrame, probabilities: pd.DataFrame,
            options: ScoreOptions) -> pd.DataFrame:
    """Per feature and macro: scored galaxies, estimated ceiling, r of the true probabilities
    (scored by the evaluator on the same rows) and their difference."""
    ceiling = vote_noise_ceiling(truth, options)
    scored = truth_from_frame(truth, options.min_votes)
    perfect = probabilities[probabilities["id_str"].isin(scored.ids)]
    r = score_predictions(scored, perfect, replace(options, bootstrap=0),
                          "probabilities")
    rows = [{"feature": f, "n": ceiling["features"][f]["n"], "ceiling": ceiling["features"][f]["r"],
             "true_r": float(r.values["pearson_r"][j])} for j, f in enumerate(FEATURES)]
    rows.append({"feature": "macro", "n": r.galaxies, "ceiling": ceiling["macro"]["r"],
                 "true_r": float(r.values["pearson_r"].mean())})
    table = pd.DataFrame(rows)
    table["difference"] = table["ceiling"] - table["true_r"]
    return table


def simulated_check(folder: str | Path, n: int = 8000, seed: int = 0,
                    options: ScoreOptions = ScoreOptions(), survey: str = R.PRIMARY_SURVEY,
                    split: str = R.PRIMARY_SPLIT) -> pd.DataFrame:
    """`compare` on one split of a benchmark dataset built from a fresh simulation under
    `folder` (the simulation in `folder/sim`, the dataset in `folder/data`)."""
    from ..dataset.build import build
    from ..dataset.load import load_truth

    sim = simulate(Path(folder) / "sim", n=n, seed=seed, image_size=MIN_IMAGE_SIZE,
                   progress=False)
    data = Path(folder) / "data"
    build([f"sim:{sim}"], data, progress=False)
    return compare(load_truth(data, survey, split), true_probabilities(sim, survey), options)


def observed_check(n: int, seed: int = 0, options: ScoreOptions = ScoreOptions(),
                   survey: str = R.PRIMARY_SURVEY) -> pd.DataFrame:
    """`compare` on every galaxy one survey saw, its labels read straight from the votes."""
    pop = draw_population(n, stream(seed, "population"))
    release = observe_survey(pop, shifted_optics(parse_shifts((ALL,)))[survey], seed)
    scheme = release.optics.scheme
    ids = [R.make_id(survey, i) for i in release.table["id_str"]]
    truth = canonical_fractions(release.table, scheme).add_suffix("_fraction")
    for question in R.BENCHMARK_QUESTIONS:
        truth[R.total_votes_column(question)] = release.table[scheme.total_column(question)]
    probabilities = release.probabilities[list(FEATURES)]
    return compare(truth.assign(id_str=ids), probabilities.assign(id_str=ids), options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-votes", type=int, default=ScoreOptions().min_votes)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        table = simulated_check(folder, args.n, args.seed, ScoreOptions(min_votes=args.min_votes))
    print(table.to_markdown(index=False, floatfmt=".4f"))


if __name__ == "__main__":
    main()
