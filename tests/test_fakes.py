"""The fake benchmark loads through the real API and obeys the decision tree."""

import numpy as np

from benchmark.dataset import layout as D
from benchmark.dataset.load import load_split, load_truth
from benchmark import registry as R
from tests.fakes import fake_labels, write_fake_benchmark


def test_fake_labels_follow_the_tree():
    labels = fake_labels(200, seed=1)
    bar_total = labels[R.total_votes_column("bar")]
    assert (bar_total == labels[R.count_column("edge_on_no")]).all()
    asked = bar_total > 0
    assert labels.loc[~asked, R.fraction_column("bar_yes")].isna().all()
    fractions = labels.loc[asked, [R.fraction_column("bar_yes"), R.fraction_column("bar_no")]]
    np.testing.assert_allclose(fractions.sum(axis=1), 1, atol=1e-6)


def test_fake_benchmark_loads_through_load_split(tmp_path):
    root = write_fake_benchmark(tmp_path / "bench", {("ukidss", "test"): 5, ("sdss", "train"): 7})
    test = load_split(str(root), "ukidss", "test")
    assert len(test) == 5 and test[0]["image"].size == (32, 32)
    truth = load_truth(str(root), "sdss", "train")
    assert len(truth) == 7 and "image" not in truth
    assert set(D.label_columns()) <= set(truth.columns)
