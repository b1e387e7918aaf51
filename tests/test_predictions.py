"""Prediction-table validation: every class of malformed table gets a specific error."""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark.evaluation import predictions as P
from benchmark.errors import SommelierError, ValidationError
from tests.conftest import SHARED
from tests.scoring_fakes import FEATURES, predictions_for, truth_frame

TRUTH = truth_frame(40)
TRUTH_IDS = pd.Index(TRUTH["id_str"])
GOOD = predictions_for(TRUTH)


def _row(draw, frame):
    return draw(st.integers(0, len(frame) - 1))


def _set(frame, column, row, value):
    out = frame.copy()
    if not isinstance(value, float):
        out[column] = out[column].astype(object)
    out.loc[row, column] = value
    return out


# kind -> (corrupt(frame, draw) -> frame, what the error must say)
CORRUPTIONS = {
    "missing column": (lambda f, d: f.drop(columns=d(st.sampled_from(FEATURES))),
                       "missing column"),
    "extra column": (lambda f, d: f.assign(**{d(st.sampled_from(["odd_yes", "Unnamed: 0", "x"])): 0.5}),
                     "unexpected column"),
    "fraction names": (lambda f, d: f.rename(columns={c: f"{c}_fraction" for c in FEATURES}),
                       "plain feature names"),
    "nan": (lambda f, d: _set(f, d(st.sampled_from(FEATURES)), _row(d, f), float("nan")),
            "missing or NaN"),
    "inf": (lambda f, d: _set(f, d(st.sampled_from(FEATURES)), _row(d, f),
                              d(st.sampled_from([float("inf"), float("-inf")]))), "infinite"),
    "out of range": (lambda f, d: _set(f, d(st.sampled_from(FEATURES)), _row(d, f),
                                       d(st.floats(1.0001, 1e9) | st.floats(-1e9, -1e-6))),
                     "outside [0, 1]"),
    "text value": (lambda f, d: _set(f, d(st.sampled_from(FEATURES)), _row(d, f),
                                     d(st.text(min_size=1).filter(lambda s: _not_number(s)))),
                   "must hold numbers"),
    "bool column": (lambda f, d: f.assign(**{d(st.sampled_from(FEATURES)): True}),
                    "must hold numbers"),
    "duplicate id": (lambda f, d: f.assign(id_str=_duplicate(f["id_str"], _row(d, f))),
                     "duplicate id_str"),
    "empty id": (lambda f, d: _set(f, "id_str", _row(d, f), d(st.sampled_from(["", "  ", None]))),
                 "empty id_str"),
    "integer ids": (lambda f, d: f.assign(id_str=np.arange(len(f))), "must hold strings"),
    "missing rows": (lambda f, d: f.drop(index=d(st.lists(st.integers(0, len(f) - 1), min_size=1,
                                                          unique=True))),
                     "have no prediction"),
    "unknown ids": (lambda f, d: _set(f, "id_str", _row(d, f), d(st.text(min_size=1).map(
        lambda s: "ukidss:unknown-" + s))), "not in the truth"),
}


def _not_number(text):
    return pd.to_numeric(pd.Series([text]), errors="coerce").isna().all()


def _duplicate(ids, row):
    out = ids.copy()
    out.iloc[row] = ids.iloc[(row + 1) % len(ids)]
    return out


def validate(frame, where="preds.csv"):
    return P.align(P.check_predictions(frame, where), TRUTH_IDS, where)


def test_a_good_table_passes_and_is_aligned_to_the_truth_order():
    shuffled = GOOD.sample(frac=1, random_state=0).reset_index(drop=True)
    np.testing.assert_array_equal(validate(shuffled), GOOD[FEATURES].to_numpy())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_malformed_table_gets_a_specific_error(data):
    kind = data.draw(st.sampled_from(sorted(CORRUPTIONS)), label="kind")
    corrupt, says = CORRUPTIONS[kind]
    bad = corrupt(GOOD, data.draw)
    with pytest.raises(ValidationError) as info:
        validate(bad, where="subs/x/predictions/ukidss-test-seed0.csv")
    message = str(info.value)
    assert says in message, (kind, message)
    assert message.startswith("subs/x/predictions/ukidss-test-seed0.csv: ")


FILE_KINDS = ["nan", "out of range", "text value", "missing column", "duplicate id", "empty id"]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), suffix=st.sampled_from([".csv", ".parquet"]))
def test_malformed_files_fail_the_same_way_after_a_round_trip(data, suffix):
    kind = data.draw(st.sampled_from(FILE_KINDS), label="kind")
    corrupt, says = CORRUPTIONS[kind]
    bad = corrupt(GOOD, data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"ukidss-test-seed0{suffix}"
        try:
            bad.to_csv(path, index=False) if suffix == ".csv" else bad.to_parquet(path)
        except (TypeError, ValueError, ArithmeticError, OverflowError):
            return  # pyarrow refuses to store some mixed columns: nothing to validate
        with pytest.raises(ValidationError) as info:
            validate(P.read_predictions(path), where=str(path))
    # A file can turn one defect into another (CSV reads the text 'nan' as NaN); the error
    # must still name the file and the offending column or ids.
    assert str(info.value).startswith(f"{path}: ")
    assert says in str(info.value) or kind in ("text value", "empty id")


def test_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "ukidss-test-seed0.parquet"
    path.write_bytes(b"\x00\x01 not parquet")
    with pytest.raises(SommelierError, match="cannot be read as parquet"):
        P.read_predictions(path)


def test_oversized_file_is_refused_before_parsing(tmp_path, monkeypatch):
    path = tmp_path / "ukidss-test-seed0.csv"
    GOOD.to_csv(path, index=False)
    monkeypatch.setattr(P, "MAX_PREDICTION_BYTES", path.stat().st_size - 1)
    with pytest.raises(ValidationError, match="over the .* limit"):
        P.read_predictions(path)


def test_index_column_gets_a_hint():
    with pytest.raises(ValidationError, match="without its index"):
        validate(GOOD.reset_index())


# --- the fraction-sum warning --------------------------------------------------------------

def test_sensible_predictions_raise_no_warning():
    assert P.fraction_sum_warnings(predictions_for(TRUTH, noise=0.02)[FEATURES].to_numpy(),
                                   "x") == []


def test_swapped_columns_are_flagged_by_question():
    values = predictions_for(TRUTH, noise=0.02)[FEATURES].to_numpy()
    order = [FEATURES.index(f) for f in FEATURES]
    i, j = FEATURES.index("bar_no"), FEATURES.index("spiral_yes")
    order[i], order[j] = order[j], order[i]
    warnings = P.fraction_sum_warnings(values[:, order], "preds.csv")
    assert warnings and all(w.startswith("preds.csv: ") for w in warnings)
    assert any("'bar'" in w for w in warnings) or any("'spiral'" in w for w in warnings)


STUDY = SHARED / "fixtures" / "original-study" / "ukidss_predictions.npz"


@pytest.mark.skipif(not STUDY.is_file(), reason=f"needs the original study's fixture at {STUDY}")
def test_the_study_predictions_pass_and_a_column_rotation_is_flagged():
    from benchmark import registry as R

    data = np.load(STUDY, allow_pickle=False)
    names = list(data["label_columns"])
    cols = [names.index(R.NAMING_SCHEMES["study"].fraction_columns(f)[0]) for f in FEATURES]
    values = data["predictions"][:, cols].astype(float)
    assert P.fraction_sum_warnings(values, "study") == []
    assert len(P.fraction_sum_warnings(np.roll(values, 1, axis=1), "study")) >= 2
