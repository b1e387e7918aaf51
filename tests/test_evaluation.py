"""`sommelier score` and `sommelier evaluate`: masks, JSON contract, seeds, errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.stats

from benchmark import registry as R
from benchmark.cli.main import main
from benchmark.evaluation.entry import evaluate_entry
from benchmark.leaderboard.write import write_leaderboard
from benchmark.evaluation.metrics import METRICS
from benchmark.evaluation.options import ScoreOptions
from tests.conftest import ROOT
from tests.fakes import write_fake_benchmark
from tests.scoring_fakes import FEATURES, metadata, predictions_for, truth_frame, write_entry

BLOCK_KEYS = set(METRICS) | {"n", "ci"}


def score_json(tmp_path, truth, preds, *extra, name="r.json"):
    truth.to_csv(tmp_path / "truth.csv", index=False)
    preds.to_parquet(tmp_path / "preds.parquet", index=False)
    out = tmp_path / name
    assert main(["score", "--truth", str(tmp_path / "truth.csv"), "--predictions",
                 str(tmp_path / "preds.parquet"), "--json", str(out), *extra]) == 0
    return json.loads(out.read_text()), out.read_bytes()


def expected_mask(truth, min_votes):
    cols = {}
    for f in FEATURES:
        votes = truth[R.total_votes_column(R.QUESTION_OF_FEATURE[f])]
        cols[f] = truth[R.fraction_column(f)].notna() & (votes >= min_votes)
    return cols


def test_score_json_contract_and_vote_mask(tmp_path):
    truth = truth_frame(300, seed=1)
    preds = predictions_for(truth, seed=2)
    result, _ = score_json(tmp_path, truth, preds, "--bootstrap", "200")
    assert {"evaluator", "options", "truth", "predictions", "features", "macro",
            "worst_feature", "primary", "warnings"} <= set(result)
    assert result["evaluator"]["version"] and result["truth"]["fingerprint"].startswith("sha256:")
    assert set(result["features"]) == set(FEATURES)
    mask = expected_mask(truth, 20)
    for f in FEATURES:
        block = result["features"][f]
        assert set(block) == BLOCK_KEYS and set(block["ci"]) == set(METRICS)
        keep = mask[f].to_numpy()
        assert block["n"] == keep.sum()
        r = scipy.stats.pearsonr(preds[f][keep], truth[R.fraction_column(f)][keep])[0]
        assert block["pearson_r"] == pytest.approx(r, abs=1e-7)  # float32 labels via CSV
        assert block["ci"]["pearson_r"][0] < block["pearson_r"] < block["ci"]["pearson_r"][1]
    assert set(result["macro"]) == BLOCK_KEYS
    assert result["macro"]["pearson_r"] == pytest.approx(
        np.mean([result["features"][f]["pearson_r"] for f in FEATURES]))
    primary = result["primary"]
    assert (primary["metric"], primary["aggregate"]) == ("pearson_r", "macro")
    assert primary["value"] == result["macro"]["pearson_r"]
    assert primary["ci"] == result["macro"]["ci"]["pearson_r"]
    worst = min(FEATURES, key=lambda f: result["features"][f]["pearson_r"])
    assert result["worst_feature"]["feature"] == worst


def test_min_votes_zero_and_truth_without_votes_score_every_asked_galaxy(tmp_path):
    truth = truth_frame(200, seed=3)
    preds = predictions_for(truth)
    no_mask, _ = score_json(tmp_path, truth, preds, "--min-votes", "0", "--bootstrap", "0")
    votes = [c for c in truth.columns if c.endswith("_total_votes")]
    no_votes, _ = score_json(tmp_path, truth.drop(columns=votes), preds, "--bootstrap", "0",
                             name="nv.json")
    for f in FEATURES:
        asked = int(truth[R.fraction_column(f)].notna().sum())
        assert no_mask["features"][f]["n"] == no_votes["features"][f]["n"] == asked
    assert no_votes["truth"]["vote_columns"] == [] and no_mask["features"]["smooth"]["ci"] is None


def test_same_inputs_same_bytes_and_row_order_does_not_matter(tmp_path):
    truth = truth_frame(150, seed=4)
    preds = predictions_for(truth)
    _, first = score_json(tmp_path, truth, preds, "--bootstrap", "100", name="a.json")
    _, again = score_json(tmp_path, truth, preds, "--bootstrap", "100", name="a.json")
    shuffled, _ = score_json(tmp_path, truth.sample(frac=1, random_state=1),
                             preds.sample(frac=1, random_state=2), "--bootstrap", "100",
                             name="b.json")
    other_seed, _ = score_json(tmp_path, truth, preds, "--bootstrap", "100", "--seed", "9",
                               name="c.json")
    original = json.loads(first)
    assert first == again
    assert shuffled["features"] == original["features"]
    assert shuffled["truth"]["fingerprint"] == original["truth"]["fingerprint"]
    assert other_seed["primary"]["value"] == original["primary"]["value"]
    assert other_seed["primary"]["ci"] != original["primary"]["ci"]


def test_legacy_object_uses_the_study_definitions(tmp_path):
    truth = truth_frame(120, seed=5)
    preds = predictions_for(truth)
    result, _ = score_json(tmp_path, truth, preds, "--legacy", "--bootstrap", "0")
    legacy = result["legacy"]
    y = truth[[R.fraction_column(f) for f in FEATURES]].fillna(0).to_numpy()
    p = preds[FEATURES].to_numpy()
    assert legacy["overall_r"] == pytest.approx(np.corrcoef(p.ravel(), y.ravel())[0, 1])
    assert legacy["overall_r2"] == pytest.approx(legacy["overall_r"] ** 2)
    assert legacy["mse"] == pytest.approx(((p - y) ** 2).mean())
    for j, f in enumerate(FEATURES):
        assert set(legacy["features"][f]) == {"pearson_r", "mse", "mae", "n"}
        assert legacy["features"][f]["mae"] == pytest.approx(np.abs(p[:, j] - y[:, j]).mean())
    assert "legacy" not in score_json(tmp_path, truth, preds, "--bootstrap", "0")[0]


def test_swapped_columns_warn_and_the_warning_is_recorded(tmp_path, capsys):
    truth = truth_frame(100)
    preds = predictions_for(truth, noise=0.01).rename(
        columns={"bar_no": "spiral_yes", "spiral_yes": "bar_no"})
    result, _ = score_json(tmp_path, truth, preds, "--bootstrap", "0")
    assert result["warnings"] and "summing to 1" in result["warnings"][0]
    assert "warning:" in capsys.readouterr().err


@pytest.mark.parametrize("setup, says", [
    (lambda t, p: (t.drop(columns="bar_yes_fraction"), p), "truth table lacks column(s)"),
    (lambda t, p: (t, p.iloc[:-1]), "have no prediction"),
    (lambda t, p: (t, p.assign(smooth=p["smooth"] * 100)), "outside [0, 1]"),
])
def test_score_errors_are_one_line_exit_2(tmp_path, capsys, setup, says):
    truth, preds = setup(truth_frame(30), predictions_for(truth_frame(30)))
    truth.to_csv(tmp_path / "t.csv", index=False)
    preds.to_csv(tmp_path / "p.csv", index=False)
    code = main(["score", "--truth", str(tmp_path / "t.csv"), "--predictions",
                 str(tmp_path / "p.csv")])
    err = capsys.readouterr().err
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1


def test_unwritable_json_output_is_a_clear_error(tmp_path, capsys):
    truth = truth_frame(20)
    truth.to_csv(tmp_path / "t.csv", index=False)
    predictions_for(truth).to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "a-file").write_text("")
    assert main(["score", "--truth", str(tmp_path / "t.csv"), "--predictions",
                 str(tmp_path / "p.csv"), "--json", str(tmp_path / "a-file" / "out.json")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_bad_options_and_missing_files_never_show_a_traceback(tmp_path):
    for args in (["--truth", "nope.csv", "--predictions", "nope.parquet"],
                 ["--truth", "t.csv", "--predictions", "p.csv", "--bootstrap", "-1"]):
        run = subprocess.run([sys.executable, "-m", "benchmark.cli", "score", *args],
                             capture_output=True, text=True, cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        assert run.stderr.startswith("sommelier score: error: ")


# --- whole entries ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return write_fake_benchmark(tmp_path_factory.mktemp("bench"),
                                {("ukidss", "test"): 120, ("sdss", "test"): 80})


@pytest.fixture(scope="module")
def truths(bench):
    from benchmark.dataset.load import load_truth
    return {key: load_truth(str(bench), *key) for key in [("ukidss", "test"), ("sdss", "test")]}


def test_evaluate_writes_results_with_seeds_and_id_to_ood(tmp_path, bench, truths, capsys):
    ukidss, sdss = truths[("ukidss", "test")], truths[("sdss", "test")]
    root = write_entry(tmp_path / "toy", metadata(seeds=[0, 1]), {
        "ukidss-test-seed0.parquet": predictions_for(ukidss, noise=0.1, seed=0),
        "ukidss-test-seed1.csv": predictions_for(ukidss, noise=0.2, seed=1),
        "sdss-test-seed0.parquet": predictions_for(sdss, noise=0.05, seed=2)})
    assert main(["evaluate", str(root), "--data", str(bench), "--bootstrap", "100"]) == 0
    first = (root / "results.json").read_bytes()
    results = json.loads(first)
    assert {"evaluator", "entry", "submission_fingerprint", "dataset", "options", "primary",
            "evaluations", "id_to_ood", "warnings"} <= set(results)
    assert results["dataset"]["name"] == "fake"
    ood = results["evaluations"]["ukidss/test"]
    assert ood["seeds"] == [0, 1] and set(ood["per_seed"]) == {"0", "1"}
    per_seed = [ood["per_seed"][s]["primary"]["value"] for s in ("0", "1")]
    assert results["primary"]["value"] == pytest.approx(np.mean(per_seed))
    assert results["primary"]["std"] == pytest.approx(np.std(per_seed, ddof=1))
    assert results["primary"]["seeds"] == 2
    lo, hi = results["primary"]["ci"]
    assert lo < results["primary"]["value"] < hi
    assert set(ood["summary"]["features"]["smooth"]) == BLOCK_KEYS | {"std"}
    change = results["id_to_ood"]["sdss"]
    iid = results["evaluations"]["sdss/test"]["summary"]
    assert change["macro"]["pearson_r"] == pytest.approx(
        ood["summary"]["macro"]["pearson_r"] - iid["macro"]["pearson_r"])
    assert set(change["features"]) == set(FEATURES)
    assert main(["evaluate", str(root), "--data", str(bench), "--bootstrap", "100"]) == 0
    assert (root / "results.json").read_bytes() == first
    assert "ukidss/test (seeds 0, 1)" in capsys.readouterr().out


def test_a_constant_entry_has_undefined_r_and_ranks_last(tmp_path, bench, truths):
    """The constant baseline's r is undefined (no variance): its ID -> OOD change of r is
    undefined too, and the leaderboard ranks it after entries with a defined r."""
    def constant(truth):
        return predictions_for(truth).assign(**{f: 0.5 for f in FEATURES})

    ukidss, sdss = truths[("ukidss", "test")], truths[("sdss", "test")]
    for slug, make in (("constant", constant), ("model", predictions_for)):
        root = write_entry(tmp_path / "subs" / slug, metadata(name=slug, dataset=str(bench)), {
            "ukidss-test-seed0.parquet": make(ukidss), "sdss-test-seed0.parquet": make(sdss)})
        evaluate_entry(root, str(bench), ScoreOptions(bootstrap=50))
    results = json.loads((tmp_path / "subs" / "constant" / "results.json").read_text())
    assert results["primary"]["value"] is None
    assert results["id_to_ood"]["sdss"]["macro"]["pearson_r"] is None
    assert results["id_to_ood"]["sdss"]["macro"]["mae"] is not None
    write_leaderboard(tmp_path / "subs", tmp_path / "board")
    (group,) = json.loads((tmp_path / "board" / "leaderboard.json").read_text())["groups"]
    assert [e["name"] for e in group["tracks"]["standard"]] == ["model", "constant"]


@pytest.mark.parametrize("meta, files, data, says", [
    (metadata(dataset=None), ["ukidss-test-seed0.parquet"], None, "no dataset to score against"),
    (metadata(), ["ukidss-test-seed0.parquet"], "bench", "not in the truth"),
    (metadata(status="reported", seeds=None, parameters=None,
              reported={"source": "x", "caveats": ["y"]}), [], "bench", "have no predictions"),
])
def test_evaluate_errors(tmp_path, bench, capsys, meta, files, data, says):
    other = truth_frame(10, survey="ukidss")  # ids unknown to the benchmark
    root = write_entry(tmp_path / "toy", meta, {name: predictions_for(other) for name in files})
    args = ["evaluate", str(root)] + (["--data", str(bench)] if data else [])
    assert main(args) == 2
    assert says in capsys.readouterr().err
