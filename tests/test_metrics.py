"""Every metric against scipy/numpy on known inputs; the bootstrap against a plain loop."""

import numpy as np
import pytest

from benchmark.evaluation import metrics as M
from tests.reference_metrics import REFERENCE, loop_bootstrap

def point(p, y, mask):
    return M.evaluate(M.point_moments(M.design_matrix(p, y, mask)))


def replicates(p, y, mask, draws, seed):
    return M.evaluate(M.bootstrap_moments(M.design_matrix(p, y, mask), draws, seed))


def sample(n=400, features=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.random((n, features))
    p = np.clip(y + rng.normal(0, 0.2, y.shape), 0, 1)
    mask = rng.random((n, features)) > 0.3
    y[~mask] = np.nan  # unscored truth is null, as in the benchmark
    return p, y, mask


def test_reference_covers_every_registered_metric():
    assert set(REFERENCE) == set(M.METRICS)


@pytest.mark.parametrize("name", list(M.METRICS))
def test_point_metric_matches_reference_on_scored_values(name):
    p, y, mask = sample()
    got = point(p, y, mask)[name]
    want = [REFERENCE[name](p[mask[:, j], j], y[mask[:, j], j]) for j in range(p.shape[1])]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_known_values_by_hand():
    y = np.array([[0.0], [0.5], [1.0], [0.5]])
    p = np.array([[0.1], [0.5], [0.9], [0.7]])
    got = point(p, y, np.ones_like(y, dtype=bool))
    errors = np.array([0.1, 0.0, -0.1, 0.2])
    assert got["mae"][0] == pytest.approx(np.abs(errors).mean())
    assert got["mse"][0] == pytest.approx((errors ** 2).mean())
    assert got["rmse"][0] == pytest.approx(np.sqrt((errors ** 2).mean()))
    assert got["r2"][0] == pytest.approx(1 - (errors ** 2).sum() / 0.5)  # SST = 0.25+0+0.25+0
    assert got["pearson_r"][0] == pytest.approx(np.corrcoef(p[:, 0], y[:, 0])[0, 1])


def test_r2_is_the_coefficient_of_determination_not_r_squared():
    y = np.linspace(0, 0.7, 50)[:, None]
    got = point(y + 0.3, y, np.ones_like(y, dtype=bool))
    assert got["pearson_r"][0] == pytest.approx(1.0)
    assert got["r2"][0] < 0  # a constant offset of 0.3 is worse than predicting the mean


def test_undefined_metrics_are_nan_not_errors():
    y = np.random.default_rng(0).random((20, 2))
    p = np.full_like(y, 0.5)  # constant prediction: r undefined
    mask = np.ones_like(y, dtype=bool)
    mask[:, 1] = False  # nothing scored for feature 2
    got = point(p, y, mask)
    assert np.isnan(got["pearson_r"]).all()
    assert got["mae"][0] == pytest.approx(np.abs(y[:, 0] - 0.5).mean())
    assert np.isnan(got["mae"][1])


def test_vectorised_bootstrap_equals_a_loop_over_the_same_draws():
    p, y, mask = sample(n=150, features=3)
    draws = M.BOOTSTRAP_CHUNK + 7  # more than one chunk
    got = replicates(p, y, mask, draws, seed=3)
    want = loop_bootstrap(p, y, mask, draws, seed=3)
    for m in M.METRICS:
        np.testing.assert_allclose(got[m], want[m], rtol=1e-9, atol=1e-12, err_msg=m)


def test_bootstrap_is_deterministic_per_seed_and_prefix_stable():
    p, y, mask = sample(n=100, features=2)
    a = replicates(p, y, mask, 50, seed=1)["pearson_r"]
    b = replicates(p, y, mask, 50, seed=1)["pearson_r"]
    c = replicates(p, y, mask, 50, seed=2)["pearson_r"]
    longer = replicates(p, y, mask, 80, seed=1)["pearson_r"]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.array_equal(a, longer[:50])


def test_kept_counts_are_the_fresh_draws_and_only_reused_for_the_same_draw():
    """A second table of the same size reuses the counts; another size or seed draws anew,
    and both give exactly what a cold bootstrap gives."""
    p, y, mask = sample(n=120, features=3)
    q = np.clip(p + 0.05, 0, 1)
    M.forget_bootstrap_counts()
    cold = replicates(q, y, mask, M.BOOTSTRAP_CHUNK + 3, seed=4)
    replicates(p, y, mask, M.BOOTSTRAP_CHUNK + 3, seed=4)  # keeps (120, draws, 4)
    assert M._COUNTS[0] == (120, M.BOOTSTRAP_CHUNK + 3, 4)
    warm = replicates(q, y, mask, M.BOOTSTRAP_CHUNK + 3, seed=4)
    for m in M.METRICS:
        np.testing.assert_array_equal(warm[m], cold[m], err_msg=m)
    other_seed = replicates(q, y, mask, M.BOOTSTRAP_CHUNK + 3, seed=5)["pearson_r"]
    assert not np.array_equal(other_seed, cold["pearson_r"])
    p2, y2, mask2 = sample(n=121, features=3)
    replicates(p2, y2, mask2, 10, seed=4)
    assert M._COUNTS[0] == (121, 10, 4)


def test_shared_truth_sums_give_the_replicates_of_a_fresh_bootstrap():
    """The second table scored against one truth reuses the truth-only sums of the first."""
    p, y, mask = sample(n=130, features=3)
    q = np.clip(p + 0.1, 0, 1)
    shared: dict = {}
    M.bootstrap_moments(M.design_matrix(p, y, mask), 60, 2, shared)
    assert list(shared) == [("truth sums", 60, 2)]
    reused = M.evaluate(M.bootstrap_moments(M.design_matrix(q, y, mask), 60, 2, shared))
    fresh = M.evaluate(M.bootstrap_moments(M.design_matrix(q, y, mask), 60, 2))
    for m in M.METRICS:
        np.testing.assert_allclose(reused[m], fresh[m], rtol=1e-12, atol=1e-15, err_msg=m)


def test_percentile_interval_is_numpy_percentile_and_skips_undefined():
    reps = np.random.default_rng(0).normal(size=(1000, 3))
    reps[:, 2] = np.nan
    reps[5, 0] = np.nan
    got = M.percentile_interval(reps)
    np.testing.assert_allclose(got[:, 1], np.percentile(reps[:, 1], [2.5, 97.5]))
    np.testing.assert_allclose(got[:, 0], np.percentile(np.delete(reps[:, 0], 5), [2.5, 97.5]))
    assert np.isnan(got[:, 2]).all()


def test_interval_covers_the_point_estimate_and_shrinks_with_n():
    widths = []
    for n in (200, 3200):
        p, y, mask = sample(n=n, features=1, seed=4)
        r = point(p, y, mask)["pearson_r"][0]
        lo, hi = M.percentile_interval(replicates(p, y, mask, 300, seed=0)["pearson_r"])[:, 0]
        assert lo < r < hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2


def test_min_votes_zero_scores_cells_whose_totals_are_unknown():
    """`--min-votes 0` means every answered cell; a null total (NaN >= 0 is False) used to
    mask the row anyway."""
    import pandas as pd

    from benchmark import registry as R
    from benchmark.evaluation.truth import truth_from_frame

    frame = pd.DataFrame({"id_str": ["a", "b"], **{R.fraction_column(f): [0.5, 0.2]
                                                   for f in R.BENCHMARK_FEATURES},
                          **{R.total_votes_column(q): [None, 30.0]
                             for q in R.BENCHMARK_QUESTIONS}})
    assert truth_from_frame(frame, 0).mask.all()
    assert truth_from_frame(frame, 20).mask.sum(axis=0).tolist() == [1] * 9
