"""The paired view of the same galaxies in two surveys: the label-shift ceiling and an entry's
consistency and error decomposition, on constructed cases whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark import registry as R
from benchmark.evaluation.gap import PARTS, consistency, label_shift, paired_rows
from benchmark.evaluation.options import ScoreOptions
from benchmark.evaluation.scoring import FEATURES, summarise
from benchmark.evaluation.truth import truth_from_frame

N = 400


def _labels(rng: np.random.Generator, n: int) -> np.ndarray:
    smooth, artifact = rng.beta(2, 2, n), rng.beta(1, 20, n)
    yes = [rng.beta(1.5, 3, n) for _ in range(3)]
    columns = [smooth * (1 - artifact), (1 - smooth) * (1 - artifact), artifact]
    for y in yes:
        columns += [y, 1 - y]
    return np.clip(np.stack(columns, axis=1), 0, 1)


def _truth(survey: str, groups: np.ndarray, values: np.ndarray, blank: int = 0):
    frame = pd.DataFrame({"id_str": [f"{survey}:{g}" for g in groups], "group_id": groups})
    for j, f in enumerate(FEATURES):
        column = values[:, j].copy()
        column[:blank] = np.nan  # question not asked in this survey's view
        frame[R.fraction_column(f)] = column
    return truth_from_frame(frame, 0)


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    optical = _labels(rng, N)
    ukidss = np.clip(optical + rng.normal(0, 0.1, optical.shape), 0, 1)  # volunteers differ
    groups = np.array([f"sdss:{k:05d}" for k in range(N)])
    # UKIDSS holds 300 of the galaxies, shuffled; the optical split 350, some blank
    order = rng.permutation(N)
    u_idx, o_idx = np.sort(order[:300]), np.sort(order[50:])
    return (_truth("ukidss", groups[u_idx], ukidss[u_idx]),
            _truth("sdss", groups[o_idx], optical[o_idx], blank=10), optical, ukidss,
            groups, u_idx, o_idx)


def _aligned(truth, groups_all, values_all):
    position = {g: k for k, g in enumerate(groups_all)}
    return values_all[[position[g] for g in truth.groups]]


def test_paired_rows_are_the_same_galaxies(pair):
    ukidss, optical, *_ = pair
    u, o = paired_rows(ukidss, optical)
    assert len(u) == 250 and (ukidss.groups[u] == optical.groups[o]).all()


def test_the_label_shift_ceiling_is_the_optical_labels_scored_on_ukidss(pair):
    ukidss, optical, opt_all, uk_all, groups, *_ = pair
    s = summarise([label_shift(ukidss, optical, ScoreOptions(bootstrap=50))])
    u, o = paired_rows(ukidss, optical)
    keep = ~np.isnan(optical.values[o, 0])
    expected = np.corrcoef(optical.values[o[keep], 0], ukidss.values[u[keep], 0])[0, 1]
    assert s["features"]["smooth"]["pearson_r"] == pytest.approx(expected, abs=1e-9)
    assert s["features"]["smooth"]["n"] == keep.sum() < 250  # blank optical cells left out
    assert 0.5 < s["primary"]["value"] < 1


@pytest.mark.parametrize("model", ["optical truth", "constant", "ukidss truth"])
def test_the_ukidss_error_splits_as_constructed(pair, model):
    ukidss, optical, opt_all, uk_all, groups, *_ = pair
    if model == "optical truth":  # both views predict the optical labels
        pred_u, pred_o = _aligned(ukidss, groups, opt_all), _aligned(optical, groups, opt_all)
    elif model == "constant":
        pred_u = np.full(ukidss.values.shape, 0.3)
        pred_o = np.full(optical.values.shape, 0.3)
    else:  # each view predicts its own survey's volunteers perfectly
        pred_u, pred_o = _aligned(ukidss, groups, uk_all), _aligned(optical, groups, opt_all)
    out = consistency(ukidss, optical, pred_u, pred_o)
    for feature, block in out["features"].items():
        assert sum(block[p] for p in PARTS) == pytest.approx(block["mse"], abs=1e-12), feature
        if model == "optical truth":  # all of the error is the label shift
            assert block["label_shift"] == pytest.approx(block["mse"])
            assert block["optical_error"] == block["view_change"] == 0
            assert block["views_pearson_r"] == pytest.approx(1)
        elif model == "constant":  # nothing changes between views
            assert block["view_change"] == 0 and block["mean_abs_change"] == 0
            assert block["views_pearson_r"] is None
        else:  # no error left; the view change exactly undoes the label shift
            assert block["mse"] == pytest.approx(0, abs=1e-12)
            assert block["mean_abs_change"] > 0.02
    assert out["galaxies"] == 250
