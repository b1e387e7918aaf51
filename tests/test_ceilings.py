"""Vote-noise ceilings: a known answer, the simulator's true probabilities, pairing, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark import registry as R
from benchmark.errors import ValidationError
from benchmark.evaluation import metrics as M
from benchmark.evaluation.ceilings import (FEATURES, ceilings, noise_design, question_totals,
                                           ceiling_from_sums, vote_noise_ceiling)
from benchmark.evaluation.options import ScoreOptions
from benchmark.evaluation.truth import truth_from_frame
from benchmark.evaluation.ceiling_check import observed_check, simulated_check

#: Acceptance: the estimate is within this of the r of the true probabilities, per feature.
TOLERANCE = 0.02
#: Beta(a, b) of each feature's synthetic answer probability: a + b sets how much of a
#: fraction's variance is signal.
BETA = {f: (0.5 + j, 1.0 + 2 * (j % 3)) for j, f in enumerate(FEATURES)}


def _synthetic(rows: int, seed: int = 0) -> tuple[pd.DataFrame, dict[str, float]]:
    """Fractions of binomial votes (2 to 40 per question) on Beta probabilities, and the
    population r of probability against fraction: r^2 = 1 / (1 + (a + b) E[1/n])."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id_str": [f"g{i:07d}" for i in range(rows)]})
    expected = {}
    for question in R.BENCHMARK_QUESTIONS:
        votes = rng.integers(2, 41, size=rows)
        frame[R.total_votes_column(question)] = votes
        for feature in R.QUESTION_BY_NAME[question].answers:
            a, b = BETA[feature]
            frame[R.fraction_column(feature)] = rng.binomial(votes, rng.beta(a, b, rows)) / votes
            expected[feature] = float(np.sqrt(1.0 / (1.0 + (a + b) * np.mean(1.0 / votes))))
    return frame, expected


def test_binomial_votes_on_beta_probabilities_give_the_analytic_r():
    frame, expected = _synthetic(200_000)
    result = vote_noise_ceiling(frame, ScoreOptions(min_votes=0, bootstrap=0))
    for feature in FEATURES:
        assert result["features"][feature]["r"] == pytest.approx(expected[feature], abs=0.005)
    assert min(expected.values()) < 0.8  # the noise is far from negligible
    assert result["macro"]["r"] == pytest.approx(np.mean(list(expected.values())), abs=0.005)


@pytest.fixture(scope="module")
def simulated_ukidss_test(tmp_path_factory) -> pd.DataFrame:
    return simulated_check(tmp_path_factory.mktemp("ceiling"), n=8000, seed=0,
                           options=ScoreOptions(bootstrap=0))


def test_ceiling_matches_the_true_probabilities_r_on_a_simulated_ukidss_test(
        simulated_ukidss_test):
    table = simulated_ukidss_test.set_index("feature")
    assert list(table.index) == [*FEATURES, "macro"]
    assert (table["n"] > 100).all()
    assert table["ceiling"].between(0.5, 1.0).all()
    assert (table["difference"].abs() <= TOLERANCE).all(), table


@pytest.mark.parametrize("survey", ["ukidss", "decals"])
def test_ceiling_holds_where_few_votes_make_noise_dominate(survey):
    # min_votes 2 scores bar and spiral questions of 2-5 votes (DECaLS: its ~5-volunteer
    # mode, and bar yes = strong + weak); no images are needed, so the population is large.
    table = observed_check(100_000, seed=0, options=ScoreOptions(min_votes=2, bootstrap=0),
                           survey=survey).set_index("feature")
    assert table.loc["edge_on_yes", "ceiling"] < 0.9
    assert (table["difference"].abs() <= TOLERANCE).all(), table


def test_replicates_are_the_evaluators_draws():
    frame, _ = _synthetic(500, seed=1)
    options = ScoreOptions(min_votes=20, bootstrap=5, seed=3)
    truth = truth_from_frame(frame, options.min_votes)
    totals = question_totals(truth)
    result = ceilings(truth, totals, options)
    first = next(M.bootstrap_indices(len(truth.ids), options.bootstrap, options.seed))
    by_hand = ceiling_from_sums(noise_design(truth, totals)[first].sum(axis=0))
    assert np.allclose(result.replicates[0], by_hand)
    assert result.replicates.shape == (5, len(FEATURES))


def test_summary_has_intervals_and_ignores_row_order():
    frame, _ = _synthetic(2000, seed=2)
    options = ScoreOptions(bootstrap=200)
    result = vote_noise_ceiling(frame, options)
    shuffled = vote_noise_ceiling(frame.sample(frac=1.0, random_state=0), options)
    assert shuffled == result
    for feature in FEATURES:
        block = result["features"][feature]
        assert block["ci"][0] <= block["r"] <= block["ci"][1]
        assert block["n"] == int((frame[R.total_votes_column(
            R.QUESTION_OF_FEATURE[feature])] >= options.min_votes).sum())
    lo, hi = result["macro"]["ci"]
    assert lo <= result["macro"]["r"] <= hi
    assert result["macro"]["r"] == pytest.approx(
        np.mean([result["features"][f]["r"] for f in FEATURES]))


def test_single_vote_rows_leave_the_ceiling_undefined():
    frame, _ = _synthetic(300, seed=4)
    frame.loc[0, R.total_votes_column("bar")] = 1
    frame.loc[0, ["bar_yes_fraction", "bar_no_fraction"]] = [1.0, 0.0]
    result = vote_noise_ceiling(frame, ScoreOptions(min_votes=0, bootstrap=10))
    assert result["features"]["bar_yes"]["r"] is None
    assert result["features"]["bar_yes"]["ci"] == [None, None]
    assert result["features"]["spiral_yes"]["r"] is not None
    assert result["macro"]["r"] is None
    scored = vote_noise_ceiling(frame, ScoreOptions(min_votes=2, bootstrap=0))
    assert scored["features"]["bar_yes"]["r"] is not None


def test_a_table_without_vote_totals_is_refused():
    frame, _ = _synthetic(50)
    with pytest.raises(ValidationError, match="bar_total_votes"):
        vote_noise_ceiling(frame.drop(columns=[R.total_votes_column("bar")]), where="labels")
