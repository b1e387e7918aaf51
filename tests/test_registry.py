"""The registry is the contract every module relies on: check it against the published facts."""

import numpy as np
import pytest

from benchmark import registry as R
from tests.conftest import SHARED


def test_benchmark_features_in_order_and_grouped_by_question():
    assert R.BENCHMARK_FEATURES == ("smooth", "featured_or_disk", "artifact", "edge_on_yes",
                                    "edge_on_no", "bar_yes", "bar_no", "spiral_yes", "spiral_no")
    assert R.questions_of(R.BENCHMARK_FEATURES) == R.BENCHMARK_QUESTIONS


def test_feature_names_unique_and_study_set_has_26():
    assert len(set(R.ALL_FEATURES)) == len(R.ALL_FEATURES)
    assert len(R.FEATURE_SETS["study26"]) == 26
    assert set(R.FEATURE_SETS["study26"]) <= set(R.ALL_FEATURES)


def test_tree_dependencies():
    assert R.ancestors("smooth_or_featured") == ()
    assert R.ancestors("bar") == ("featured_or_disk", "edge_on_no")
    assert R.ancestors("spiral_winding") == ("featured_or_disk", "edge_on_no", "spiral_yes")


@pytest.mark.parametrize("scheme,feature,count,fraction,total", [
    ("hart16", "bar_yes", ("t03_bar_a06_bar_count",), ("t03_bar_a06_bar_fraction",), None),
    ("hf-gz2", "smooth", ("smooth-or-featured-gz2_smooth",),
     ("smooth-or-featured-gz2_smooth_fraction",), "smooth-or-featured-gz2_total-votes"),
    ("hf-ukidss", "spiral_no", ("has-spiral-arms-ukidss_no",),
     ("has-spiral-arms-ukidss_no_fraction",), "has-spiral-arms-ukidss_total-votes"),
    ("hf-dr5", "bar_yes", ("bar-dr5_strong", "bar-dr5_weak"),
     ("bar-dr5_strong_fraction", "bar-dr5_weak_fraction"), "bar-dr5_total-votes"),
    ("decals-zenodo", "bar_yes", ("bar_strong", "bar_weak"),
     ("bar_strong_fraction", "bar_weak_fraction"), "bar_total-votes"),
])
def test_naming_schemes_match_published_columns(scheme, feature, count, fraction, total):
    s = R.NAMING_SCHEMES[scheme]
    assert s.count_columns(feature) == count
    assert s.fraction_columns(feature) == fraction
    assert s.total_column(R.QUESTION_OF_FEATURE[feature]) == total


def test_decals_has_no_odd_question():
    assert not R.NAMING_SCHEMES["hf-dr5"].covers("odd_yes")
    assert R.NAMING_SCHEMES["hf-dr5"].fraction_columns("odd_yes") == ()


def test_study_scheme_names_the_fixture_columns():
    path = SHARED / "fixtures/original-study/sdss_predictions.npz"
    if not path.exists():
        pytest.skip(f"{path} absent: ../shared is not beside this checkout")
    published = set(np.load(path, allow_pickle=False)["label_columns"].tolist())
    study = R.NAMING_SCHEMES["study"]
    ours = {c for f in R.ALL_FEATURES for c in study.fraction_columns(f)}
    # every GZ2 answer in our tree is in the study's table; only T08 'odd feature' is not ours
    assert ours <= published
    assert {c for c in published - ours if "weighted" not in c} == {
        c for c in published if c.startswith("t08_") and "weighted" not in c}


def test_survey_splits_and_ids():
    assert R.SURVEYS["ukidss"].splits == ("validation", "test") and R.SURVEYS["ukidss"].ood
    assert all(not R.SURVEYS[s].ood for s in ("sdss", "decals"))
    assert R.make_id("ukidss", "abc") == "ukidss:abc"
