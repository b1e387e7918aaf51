"""submission.yaml and the predictions/ layout: every mistake is a specific ValidationError."""

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark.evaluation import submission as S
from benchmark.errors import ValidationError
from tests.scoring_fakes import metadata, predictions_for, truth_frame, write_entry

PRED = predictions_for(truth_frame(5))


def entry(tmp_path, meta=None, files=("ukidss-test-seed0.parquet",)):
    return write_entry(tmp_path / "toy", metadata() if meta is None else meta,
                       {name: PRED for name in files})


def test_a_valid_entry_loads(tmp_path):
    sub = S.load_submission(entry(tmp_path, metadata(seeds=[0, 1]),
                                  ["ukidss-test-seed0.parquet", "ukidss-test-seed1.csv",
                                   "sdss-test-seed0.parquet"]))
    assert (sub.slug, sub.track, sub.seeds, sub.date) == ("toy", "standard", (0, 1), "2025-01-31")
    files = S.prediction_files(sub)
    assert [(f.key, f.seed) for f in files] == [("sdss/test", 0), ("ukidss/test", 0),
                                                ("ukidss/test", 1)]


def test_unquoted_yaml_date_and_oracle_track(tmp_path):
    root = entry(tmp_path, metadata(model_selection="ood-validation"))
    text = (root / "submission.yaml").read_text().replace("'2025-01-31'", "2025-01-31")
    (root / "submission.yaml").write_text(text)
    sub = S.load_submission(root)
    assert (sub.date, sub.track) == ("2025-01-31", "oracle")


@pytest.mark.parametrize("changes, says", [
    ({"authors": "A. Tester"}, "'authors' must be a non-empty list"),
    ({"seeds": [0, 0]}, "lists a seed twice"),
    ({"seeds": [-1]}, "integer >= 0"),
    ({"parameters": "big"}, "'parameters' must be an integer"),
    ({"parameters": True}, "'parameters' must be an integer"),
    ({"training_surveys": ["ukidss"]}, "UKIDSS is never trained on"),
    ({"model_selection": "oracle"}, "training-domain, ood-validation"),
    ({"date": "31/01/2025"}, "YYYY-MM-DD"),
    ({"url": "ftp://example.org"}, "http(s)://"),
    ({"status": "maybe"}, "'status' must be one of verified, reported"),
    ({"name": ""}, "'name' must be a non-empty string"),
    ({"seed": [0]}, "unknown field(s) 'seed'"),
    ({"parameters": None}, "missing field(s) parameters"),
    ({"reported": {"source": "x", "caveats": ["y"]}}, "belongs only to status: reported"),
])
def test_bad_fields_are_named(tmp_path, changes, says):
    with pytest.raises(ValidationError) as info:
        S.load_submission(entry(tmp_path, metadata(**changes)))
    assert says in str(info.value)
    assert "submission.yaml" in str(info.value)


@pytest.mark.parametrize("text, says", [
    ("name: [unclosed\n", "invalid YAML at line"),
    ("- a\n- b\n", "must be a YAML mapping"),
    ("", "must be a YAML mapping"),
    ("name: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
])
def test_bad_yaml(tmp_path, text, says):
    root = entry(tmp_path)
    (root / "submission.yaml").write_text(text)
    with pytest.raises(ValidationError, match=says.replace("(", r"\(")):
        S.load_submission(root)


def test_oversized_and_binary_yaml(tmp_path, monkeypatch):
    root = entry(tmp_path)
    monkeypatch.setattr(S, "MAX_METADATA_BYTES", 10)
    with pytest.raises(ValidationError, match="byte limit"):
        S.load_submission(root)
    monkeypatch.undo()
    (root / "submission.yaml").write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ValidationError, match="not UTF-8"):
        S.load_submission(root)


def reported_meta(**changes):
    block = {"source": "a paper", "caveats": ["leakage"], "pearson_r": {"smooth": 0.8},
             "pooled": {"pearson_r": 0.81}}
    return metadata(status="reported", seeds=None, parameters=None, reported=block, **changes)


def test_reported_entry_needs_no_seeds_but_no_predictions(tmp_path):
    sub = S.load_submission(entry(tmp_path, reported_meta(), files=()))
    assert sub.reported.pooled == {"pearson_r": 0.81}
    assert sub.reported.macro_pearson_r is None  # not all nine features published
    with pytest.raises(ValidationError, match="a reported entry has no predictions"):
        S.load_submission(entry(tmp_path, reported_meta()))


def test_reported_block_is_checked(tmp_path):
    meta = reported_meta()
    meta["reported"]["pearson_r"] = {"bar": 0.5}
    with pytest.raises(ValidationError, match="pearson_r has unknown key"):
        S.load_submission(entry(tmp_path, meta, files=()))


@pytest.mark.parametrize("files, says", [
    (["ukidss_test_0.parquet"], "not a prediction file"),
    (["ukidss-test-seed0.parquet", "notes.txt"], "not a prediction file"),
    (["hubble-test-seed0.parquet"], "unknown survey 'hubble'"),
    (["ukidss-train-seed0.parquet"], "has no split 'train'"),
    (["ukidss-test-seed0.parquet", "ukidss-test-seed7.parquet"], "seed 7 is not among"),
    (["ukidss-test-seed0.csv", "ukidss-test-seed0.parquet"], "already holds"),
    (["sdss-test-seed0.parquet"], "missing required split ukidss/test for seed(s) [0]"),
    ([], "no such folder"),
])
def test_prediction_layout_errors(tmp_path, files, says):
    sub = S.load_submission(entry(tmp_path, files=files))
    with pytest.raises(ValidationError) as info:
        S.prediction_files(sub)
    assert says in str(info.value)


VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(list(S.FIELDS) + ["extra"]), VALUES, max_size=14),
       base=st.booleans())
def test_any_yaml_content_is_accepted_or_refused_cleanly(fields, base):
    meta = dict(metadata(), **fields) if base else fields
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "toy"
        root.mkdir()
        (root / "submission.yaml").write_text(yaml.safe_dump(meta))
        try:
            sub = S.load_submission(root)
        except ValidationError as exc:
            assert str(exc).startswith(str(root))
        else:
            assert sub.status in S.STATUSES and sub.name.strip()
