"""Speed of the evaluator on a UKIDSS-sized submission (70,845 galaxies x 9 features, B = 1000)
against a plain per-feature scipy + Python-loop bootstrap over the very same draws.

Measure with `pytest -p no:xdist --benchmark-only tests/test_perf_evaluator.py`: both tests
share a group, so pytest-benchmark prints their ratio. Otherwise the loop reference is not
timed and replays only the first few draws, which keeps the suite fast and still checks that
both give the same numbers.
"""

import numpy as np
import pandas as pd
import pytest

from benchmark import registry as R
from benchmark.evaluation.scoring import score, score_predictions
from benchmark.evaluation.truth import truth_from_frame
from benchmark.evaluation.metrics import forget_bootstrap_counts
from benchmark.evaluation.options import ScoreOptions
from tests.reference_metrics import loop_bootstrap, loop_point

N, DRAWS, SEED = 70_845, 1000, 0
OPTIONS = ScoreOptions(bootstrap=DRAWS, seed=SEED)
GROUP = "evaluator: 70,845 x 9, B=1000"


def synthetic_truth(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Tree-shaped labels, vectorised: children asked only where the parent answer got votes."""
    columns: dict[str, np.ndarray] = {}
    votes = {None: np.full(n, 40)}
    for question in R.BENCHMARK_QUESTIONS:
        q = R.QUESTION_BY_NAME[question]
        total = votes[q.parent]
        fractions = rng.dirichlet(np.full(len(q.answers), 0.8), size=n)
        asked = total > 0
        for j, answer in enumerate(q.answers):
            columns[R.fraction_column(answer)] = np.where(asked, fractions[:, j], np.nan)
            votes[answer] = np.round(total * fractions[:, j]).astype(int)
        columns[R.total_votes_column(question)] = total
    ids = [f"ukidss:{i:06x}" for i in range(n)]
    return pd.DataFrame({"id_str": ids, **columns})


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(7)
    truth = truth_from_frame(synthetic_truth(N, rng), OPTIONS.min_votes, "synthetic truth")
    pred = np.clip(np.nan_to_num(truth.values, nan=0.5) + rng.normal(0, 0.15, truth.values.shape),
                   0, 1)
    frame = pd.DataFrame({"id_str": truth.ids, **dict(zip(R.BENCHMARK_FEATURES, pred.T))})
    return truth, frame.sample(frac=1, random_state=1), pred  # shuffled: alignment is timed too


@pytest.mark.benchmark(group=GROUP)
def test_vectorised_evaluator(benchmark, synthetic):
    truth, frame, _ = synthetic
    result = benchmark.pedantic(score_predictions, args=(truth, frame, OPTIONS, "synthetic"),
                                setup=forget_bootstrap_counts, rounds=3, iterations=1)
    assert result.replicates["pearson_r"].shape == (DRAWS, len(R.BENCHMARK_FEATURES))
    assert (result.n < N).any()  # the vote mask is in play


def check_loop_reference(synthetic, draws, run=lambda f: f()):
    """The loop reference (run through `run`) gives the evaluator's numbers, draw for draw."""
    truth, _, pred = synthetic
    point, replicates = run(lambda: (loop_point(pred, truth.values, truth.mask),
                                     loop_bootstrap(pred, truth.values, truth.mask, draws, SEED)))
    fast = score(truth, pred, OPTIONS)
    for metric in point:
        np.testing.assert_allclose(fast.values[metric], point[metric], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(fast.replicates[metric][:draws], replicates[metric],
                                   rtol=1e-9, atol=1e-12)


@pytest.mark.benchmark(group=GROUP)
def test_loop_reference(benchmark, synthetic, request):
    if not request.config.getoption("benchmark_only"):
        pytest.skip("the full loop reference takes 40 s or more; it is timed with --benchmark-only")
    check_loop_reference(synthetic, DRAWS,
                         lambda f: benchmark.pedantic(f, rounds=1, iterations=1))


def test_vectorised_equals_the_loop_reference_on_the_first_draws(synthetic):
    check_loop_reference(synthetic, draws=4)
