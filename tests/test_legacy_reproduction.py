"""`sommelier score --legacy` reproduces the original study's own metrics file exactly."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmark import registry as R
from benchmark.cli.main import main
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "original-study"
pytestmark = pytest.mark.skipif(
    not (FIXTURES / "ukidss_predictions.npz").is_file(),
    reason=f"the original study's fixtures are not at {FIXTURES} (../shared beside the checkout)")


def study_files(tmp_path):
    """The fixture's nine benchmark columns as a truth CSV and a prediction Parquet file."""
    data = np.load(FIXTURES / "ukidss_predictions.npz", allow_pickle=False)
    names = list(data["label_columns"])
    scheme = R.NAMING_SCHEMES["study"]
    study_names = {f: scheme.fraction_columns(f)[0] for f in R.BENCHMARK_FEATURES}
    cols = [names.index(study_names[f]) for f in R.BENCHMARK_FEATURES]
    ids = data["objids"].astype(str)
    truth = pd.DataFrame({"id_str": ids, **{R.fraction_column(f): data["true_labels"][:, j]
                                            for f, j in zip(R.BENCHMARK_FEATURES, cols)}})
    preds = pd.DataFrame({"id_str": ids, **{f: data["predictions"][:, j]
                                            for f, j in zip(R.BENCHMARK_FEATURES, cols)}})
    truth.to_csv(tmp_path / "truth.csv", index=False)
    preds.to_parquet(tmp_path / "predictions.parquet", index=False)
    return study_names, data["true_labels"][:, cols], data["predictions"][:, cols]


def test_legacy_mode_reproduces_ood_metrics_json(tmp_path, capsys):
    study_names, y, p = study_files(tmp_path)
    out = tmp_path / "result.json"
    code = main(["score", "--truth", str(tmp_path / "truth.csv"),
                 "--predictions", str(tmp_path / "predictions.parquet"),
                 "--legacy", "--bootstrap", "0", "--json", str(out)])
    assert code == 0
    legacy = json.loads(out.read_text())["legacy"]
    published = json.loads((FIXTURES / "ood_metrics.json").read_text())["UKIDSS"]["per_task"]
    for feature, name in study_names.items():
        for ours, theirs in (("pearson_r", "correlation"), ("mse", "mse"), ("mae", "mae")):
            assert legacy["features"][feature][ours] == pytest.approx(
                published[name][theirs], abs=1e-6), (feature, ours)
    # The flattened r of the file's nine benchmark columns, and its square as "R2".
    assert legacy["overall_r"] == pytest.approx(0.81120, abs=5e-6)
    assert legacy["overall_r2"] == pytest.approx(legacy["overall_r"] ** 2)
    y, p = y.astype(float), p.astype(float)
    assert legacy["mae"] == pytest.approx(np.abs(p - y).mean(), abs=1e-9)
    assert legacy["mse"] == pytest.approx(((p - y) ** 2).mean(), abs=1e-9)
    assert legacy["n"] == y.size
    printed = capsys.readouterr().out
    assert "legacy pooled (flattened): r = 0.811197" in printed
