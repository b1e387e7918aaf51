"""Predict: files and submission.yaml follow the submission contract, seeds merge into one
entry, and the constant and linear-probe baselines run through the same commands."""

import datetime
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from benchmark.evaluation.writer import IDENTITY
from baselines.predict import predict
from baselines.train import train
from benchmark.dataset.load import load_split, load_truth
from benchmark import registry as R
from benchmark.cli.main import main
from benchmark.errors import SommelierError
from benchmark.evaluation.submission import load_submission, prediction_files
from tests.baselines_support import (  # noqa: F401 (bench, cache: fixtures)
    bench, cache, tiny_config, tiny_raw, write_config)

CONTRACT_KEYS = {"name", "authors", "url", "model", "pretraining", "training_surveys",
                 "model_selection", "seeds", "parameters", "date", "status", "saw_ukidss",
                 "dataset"}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, bench, cache):
    config = tiny_config(cache, stages=[{"name": "head", "backbone": "frozen", "epochs": 1}])
    return train(config, str(bench), seed=0, out=tmp_path_factory.mktemp("run"))


def _check_contract(entry, bench, survey, split, seed):
    frame = pd.read_parquet(entry / "predictions" / f"{survey}-{split}-seed{seed}.parquet")
    assert list(frame.columns) == ["id_str", *R.BENCHMARK_FEATURES]
    ids = load_split(str(bench), survey, split, columns=["id_str"])["id_str"]
    assert list(frame["id_str"]) == list(ids)
    values = frame[list(R.BENCHMARK_FEATURES)].to_numpy()
    assert values.dtype.kind == "f" and np.all((values >= 0) & (values <= 1))
    return frame


def _assert_questions_sum_to_one(frame):
    for question in R.BENCHMARK_QUESTIONS:
        answers = list(R.QUESTION_BY_NAME[question].answers)
        assert np.allclose(frame[answers].sum(axis=1), 1, atol=1e-5)


def test_predict_writes_the_submission_contract(tmp_path, bench, checkpoint):
    entry = tmp_path / "submissions" / "tiny"
    written = predict(checkpoint, str(bench), ["ukidss:test", "sdss:test"], entry)
    assert len(written) == 2
    frame = _check_contract(entry, bench, "ukidss", "test", 0)
    _check_contract(entry, bench, "sdss", "test", 0)
    _assert_questions_sum_to_one(frame)  # softmax per question
    info = yaml.safe_load((entry / "submission.yaml").read_text())
    assert CONTRACT_KEYS <= set(info) <= CONTRACT_KEYS | {"notes"}
    assert info["status"] == "verified" and info["model_selection"] == "training-domain"
    assert info["training_surveys"] == ["sdss"] and info["seeds"] == [0]
    assert info["dataset"] == bench.name and isinstance(info["parameters"], int)
    assert isinstance(info["authors"], list) and all(isinstance(a, str) for a in info["authors"])
    datetime.date.fromisoformat(info["date"])
    assert len(prediction_files(load_submission(entry))) == 2  # the evaluator's validation


def test_more_seeds_merge_into_one_entry(tmp_path, bench, checkpoint):
    entry = tmp_path / "entry"
    predict(checkpoint, str(bench), ["ukidss:test"], entry)
    predict(checkpoint, str(bench), ["ukidss:test"], entry, seed=4)
    assert yaml.safe_load((entry / "submission.yaml").read_text())["seeds"] == [0, 4]
    assert {p.name for p in (entry / "predictions").iterdir()} == {
        "ukidss-test-seed0.parquet", "ukidss-test-seed4.parquet"}


def test_another_model_cannot_join_an_entry(tmp_path, bench, cache, checkpoint):
    entry = tmp_path / "entry"
    predict(checkpoint, str(bench), ["ukidss:test"], entry)
    other = train(tiny_config(cache, name="other", entry={"name": "Other"}, stages=[
        {"name": "head", "backbone": "frozen", "epochs": 1}]), str(bench), out=tmp_path / "o")
    assert "name" in IDENTITY
    with pytest.raises(SommelierError, match="another entry"):
        predict(other, str(bench), ["ukidss:test"], entry)


@pytest.mark.parametrize("split", ["ukidss", "ukidss:", "test"])
def test_bad_split_names_are_errors(tmp_path, bench, checkpoint, split):
    with pytest.raises(SommelierError, match="survey:split"):
        predict(checkpoint, str(bench), [split], tmp_path / "entry")


def _cli_train_predict(tmp_path, bench, raw):
    config = write_config(tmp_path / "config.yaml", raw)
    out, entry = tmp_path / "run", tmp_path / "entry"
    assert main(["train", "--config", str(config), "--data", str(bench), "--out", str(out)]) == 0
    assert main(["predict", "--checkpoint", str(out / "best"), "--data", str(bench),
                 "--split", "ukidss:test", "--entry", str(entry)]) == 0
    return _check_contract(entry, bench, "ukidss", "test", 0)


def test_constant_baseline_predicts_the_training_means(tmp_path, bench, cache):
    raw = tiny_raw(cache, name="constant", kind="constant", features="benchmark")
    frame = _cli_train_predict(tmp_path, bench, raw)
    train_labels = load_truth(str(bench), "sdss", "train")
    for feature in R.BENCHMARK_FEATURES:
        expected = train_labels[R.fraction_column(feature)].mean()  # pandas skips unasked
        assert np.allclose(frame[feature], expected, atol=1e-6)


def test_mixed_constant_weights_surveys_by_their_share(tmp_path, bench, cache):
    raw = tiny_raw(cache, name="constant", kind="constant", features="benchmark",
                   data={"mix": {"sdss": 0.25, "decals": 0.75}})
    frame = _cli_train_predict(tmp_path, bench, raw)
    means = [load_truth(str(bench), s, "train")[R.fraction_column("smooth")].mean()
             for s in ("sdss", "decals")]
    assert math.isclose(frame["smooth"].iloc[0], 0.25 * means[0] + 0.75 * means[1], rel_tol=1e-5)


def test_linear_probe_trains_and_predicts_through_the_cli(tmp_path, bench, cache):
    raw = tiny_raw(cache, name="probe", kind="linear-probe", stages=[],
                   model={"pooling": "cls+mean"})
    frame = _cli_train_predict(tmp_path, bench, raw)
    assert frame[list(R.BENCHMARK_FEATURES)].std().max() > 0  # depends on the image
    _assert_questions_sum_to_one(frame)
    assert list((cache / "embeddings").glob("*.safetensors"))  # cached for the next run
