"""Every upstream release as published builds to canonical values computed here by hand from
its own columns, or is refused with a message that says what to pass.

The fakes (tests/upstream_fakes.py) follow the published schemas, not the registry, so a wrong
answer mapping in the registry fails here.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from benchmark import registry as R
from benchmark.dataset.build import build
from benchmark.dataset.load import load_truth
from benchmark.dataset.sources import read_source
from benchmark.errors import SommelierError
from tests import upstream_fakes as U


def built_rows(out, report) -> pd.DataFrame:
    """Every published row of a build, by upstream id."""
    return pd.concat(load_truth(str(out), s, p) for s, p in report.split_sizes).set_index("source_id")


def by_hand(table: pd.DataFrame, *columns: str, asked: pd.Series | None = None) -> pd.Series:
    """A canonical value computed from upstream columns: their sum, null where any is null or
    where the question was not `asked`."""
    total = table[list(columns)].astype("float64").sum(axis=1, min_count=len(columns))
    return total if asked is None else total.where(asked)


def assert_same(rows: pd.DataFrame, column: str, want: pd.Series) -> None:
    got = rows.loc[want.index, column].astype("float64")
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy("float64"), atol=1e-6,
                               equal_nan=True, err_msg=column)


# --- the registry names every published answer ---------------------------------------------

PUBLISHED = {
    "hf-gz2": U.GZ2_TREE.suffixed("-gz2"), "hf-ukidss": U.GZ2_TREE.suffixed("-ukidss"),
    "hf-dr12": U.DR12_TREE.suffixed("-dr12"), "hf-dr5": U.DR5_TREE.suffixed("-dr5"),
    "hf-dr8": U.DR5_TREE.suffixed("-dr8"), "decals-zenodo": U.DR5_TREE,
    "decals-zenodo-dr12": U.DR12_TREE, "hart16": U.HART16_TREE,
}


@pytest.mark.parametrize("scheme,tree", PUBLISHED.items(), ids=list(PUBLISHED))
def test_every_published_answer_of_a_mapped_question_has_one_canonical_answer(scheme, tree):
    """An answer left unmapped makes its question's fractions sum below 1 (rows dropped as
    impossible); one mapped to a name that does not exist leaves a silent null."""
    s = R.NAMING_SCHEMES[scheme]
    for question, upstream in s.questions.items():
        assert upstream in tree.answers, f"{scheme}: no question {upstream}"
        mapped = [a for f in R.QUESTION_BY_NAME[question].answers if s.covers(f)
                  for a in s.answers[f]]
        assert sorted(mapped) == sorted(tree.answers[upstream]), f"{scheme} {upstream}"


# --- Hugging Face releases -----------------------------------------------------------------

@pytest.fixture
def gz2(tmp_path):
    return U.write_hf_gz2(tmp_path / "gz2")


def test_hf_gz2_default_config_merges_its_splits_and_says_so(gz2):
    release, table = gz2
    data = read_source(f"hf:{release}")
    assert data.notes == [f"{release} config default: upstream splits test, train merged "
                          "(10 rows); the benchmark assigns its own splits"]
    rows = data.surveys[0].frame.set_index("source_id")
    table = table.set_index("id_str")
    assert sorted(rows.index) == sorted(table.index)
    assert_same(rows, "bar_yes_fraction", by_hand(table, "bar-gz2_yes_fraction"))
    assert_same(rows, "bulge_none_fraction", by_hand(table, "bulge-size-gz2_no_fraction"))
    assert_same(rows, "round_completely_fraction", by_hand(table, "how-rounded-gz2_round_fraction"))
    assert_same(rows, "spiral_total_votes", by_hand(table, "has-spiral-arms-gz2_total-votes"))


def test_hf_config_option_picks_the_tiny_config(gz2):
    release, _ = gz2
    data = read_source(f"hf:{release},config=tiny")
    assert len(data.surveys[0].frame) == 3
    assert "config tiny: upstream splits test, train merged (3 rows)" in data.notes[0]
    with pytest.raises(SommelierError, match="cannot load"):
        read_source(f"hf:{release},config=nope")
    with pytest.raises(SommelierError, match="hf takes no option confg; it takes config, survey"):
        read_source(f"hf:{release},confg=tiny")


def test_hf_gz2_builds(gz2, tmp_path):
    release, table = gz2
    report = build([f"hf:{release}"], tmp_path / "out", progress=False)
    assert report.dropped == {} and sum(report.split_sizes.values()) == 10
    rows, table = built_rows(tmp_path / "out", report), table.set_index("id_str")
    assert_same(rows, "featured_or_disk_fraction",
                by_hand(table, "smooth-or-featured-gz2_featured-or-disk_fraction"))
    assert_same(rows, "bar_no_count", by_hand(table, "bar-gz2_no"))


def test_hf_gz_desi_takes_each_rows_campaign(tmp_path):
    """-dr12 rows: bar yes/no, bulge obvious, 'completely' round; -dr5/-dr8 rows: bar yes =
    strong + weak, bulge obvious = moderate + large. Nothing lost to the fraction-sum check."""
    release, table = U.write_hf_gz_desi(tmp_path / "gz_desi")
    report = build([f"hf:{release}"], tmp_path / "out", progress=False)
    assert report.dropped == {} and sum(report.split_sizes.values()) == len(table)
    rows, table = built_rows(tmp_path / "out", report), table.set_index("id_str")
    dr12, dr5, dr8 = (table.iloc[k::3] for k in range(3))
    assert_same(rows, "bar_yes_fraction", by_hand(dr12, "bar-dr12_yes_fraction"))
    assert_same(rows, "bar_yes_fraction", by_hand(dr5, "bar-dr5_strong_fraction",
                                                  "bar-dr5_weak_fraction"))
    assert_same(rows, "bar_yes_fraction", by_hand(dr8, "bar-dr8_strong_fraction",
                                                  "bar-dr8_weak_fraction"))
    assert_same(rows, "bar_yes_count", by_hand(dr5, "bar-dr5_strong", "bar-dr5_weak"))
    assert_same(rows, "bulge_obvious_fraction", by_hand(dr12, "bulge-size-dr12_obvious_fraction"))
    assert_same(rows, "bulge_obvious_fraction", by_hand(dr5, "bulge-size-dr5_moderate_fraction",
                                                        "bulge-size-dr5_large_fraction"))
    assert_same(rows, "round_completely_fraction",
                by_hand(dr12, "how-rounded-dr12_completely_fraction"))
    assert_same(rows, "round_completely_fraction", by_hand(dr8, "how-rounded-dr8_round_fraction"))
    assert rows.loc[dr12.index, "bulge_just_noticeable_fraction"].isna().all()
    assert rows.loc[dr12.index, "arms_cant_tell_fraction"].isna().all()  # not asked in GZD-1/2


def test_hf_gz_ukidss_with_real_labels(tmp_path):
    """The reader alone: a UKIDSS-only build needs the SDSS release to be matched against."""
    fixture = U.ukidss_fixture()
    release, table = U.write_hf_gz_ukidss(tmp_path / "gz_ukidss", fixture)
    rows = read_source(f"hf:{release}").surveys[0].frame.set_index("source_id")
    table = table.set_index("id_str")
    assert rows["ra"].isna().all() and len(rows) == 10
    assert all(len(s) == 24 for s in rows.index)
    assert_same(rows, "bar_yes_fraction", by_hand(table, "bar-ukidss_yes_fraction"))
    assert_same(rows, "smooth_count", by_hand(table, "smooth-or-featured-ukidss_smooth"))
    subjects, _, _ = U.ukidss_subjects(fixture["objids"][:10])
    real = pd.Series(fixture["true_labels"][:10, 0], index=subjects)  # t01 smooth, real
    error = (rows["smooth_fraction"].astype(float) - real.reindex(rows.index)).abs()
    assert (error <= 1 / rows["smooth_or_featured_total_votes"].astype(float)).all()


def _gated(message: str):
    from huggingface_hub.errors import GatedRepoError

    response = SimpleNamespace(status_code=401, headers={}, request=None)
    return GatedRepoError(message, response=response)


def _raise_as_datasets_does(*args, **kwargs):
    from datasets.exceptions import DatasetNotFoundError

    try:
        raise _gated("401 Client Error: Cannot access gated repo")
    except Exception as exc:
        raise DatasetNotFoundError("Dataset 'mwalmsley/gz_ukidss' is a gated dataset on the "
                                   "Hub. You must be authenticated to access it.") from exc


def _raise_gated(*args, **kwargs):
    raise _gated("Access to dataset mwalmsley/gz_ukidss is restricted")


@pytest.mark.parametrize("failure", [_raise_as_datasets_does, _raise_gated])
def test_a_gated_hub_release_says_how_to_get_access(failure, monkeypatch):
    import datasets

    monkeypatch.setattr(datasets, "load_dataset", failure)
    with pytest.raises(SommelierError) as caught:
        read_source("hf:mwalmsley/gz_ukidss")
    assert str(caught.value) == (
        "the Hugging Face release 'mwalmsley/gz_ukidss' is gated: log in with "
        "`huggingface-cli login` (or set HF_TOKEN) and request access at "
        "https://huggingface.co/datasets/mwalmsley/gz_ukidss")


def test_other_hub_failures_are_not_called_gated(monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'mwalmsley/gz2' on the Hub")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(SommelierError, match="cannot load .*Couldn't reach") as caught:
        read_source("hf:mwalmsley/gz2")
    assert "login" not in str(caught.value)


# --- Zenodo tables -------------------------------------------------------------------------

def test_zenodo_gzd5_bar_yes_is_strong_plus_weak(tmp_path):
    path, table = U.write_zenodo_decals(tmp_path, U.DR5_TREE, "gz_decals_volunteers_5.csv")
    report = build([f"decals-zenodo:{path}"], tmp_path / "out", progress=False)
    assert report.dropped == {} and sum(report.split_sizes.values()) == len(table)
    rows, table = built_rows(tmp_path / "out", report), table.set_index("iauname")
    assert_same(rows, "bar_yes_fraction", by_hand(table, "bar_strong_fraction", "bar_weak_fraction"))
    assert_same(rows, "bar_yes_count", by_hand(table, "bar_strong", "bar_weak"))
    assert_same(rows, "bar_no_fraction", by_hand(table, "bar_no_fraction"))
    assert_same(rows, "bulge_obvious_fraction",
                by_hand(table, "bulge-size_moderate_fraction", "bulge-size_large_fraction"))
    assert_same(rows, "round_completely_fraction", by_hand(table, "how-rounded_round_fraction"))
    assert_same(rows, "edge_on_total_votes", by_hand(table, "disk-edge-on_total-votes"))


def test_zenodo_gzd12_bar_yes_is_its_own_yes(tmp_path):
    path, table = U.write_zenodo_decals(tmp_path, U.DR12_TREE, "gz_decals_volunteers_1_and_2.csv")
    report = build([f"decals-zenodo:{path}"], tmp_path / "out", progress=False)
    assert report.dropped == {} and sum(report.split_sizes.values()) == len(table)
    rows, table = built_rows(tmp_path / "out", report), table.set_index("iauname")
    assert_same(rows, "bar_yes_fraction", by_hand(table, "bar_yes_fraction"))
    assert_same(rows, "bar_yes_count", by_hand(table, "bar_yes"))
    assert_same(rows, "bulge_obvious_fraction", by_hand(table, "bulge-size_obvious_fraction"))
    assert_same(rows, "round_completely_fraction", by_hand(table, "how-rounded_completely_fraction"))
    assert rows["bulge_just_noticeable_fraction"].isna().all()
    assert rows["arms_cant_tell_fraction"].isna().all()


# --- GZ2: Hart16 with the Zenodo image release ---------------------------------------------

@pytest.fixture
def hart16(tmp_path):
    fixture = U.sdss_fixture()
    path, table = U.write_hart16(tmp_path, fixture)
    return path, table, fixture


def test_hart16_with_zenodo_asset_id_images_and_real_labels(hart16, tmp_path):
    path, table, fixture = hart16
    images = U.write_zenodo_gz2_images(tmp_path / "zenodo", list(table["dr7objid"]))
    mapping = tmp_path / "zenodo" / "gz2_filename_mapping.csv"
    report = build([f"hart16:{path},images={images},mapping={mapping}"], tmp_path / "out",
                   progress=False)
    assert report.dropped == {} and sum(report.split_sizes.values()) == len(table)
    rows, table = built_rows(tmp_path / "out", report), table.set_index("dr7objid")
    asked = (table["t03_bar_a06_bar_count"] + table["t03_bar_a07_no_bar_count"]) > 0
    assert_same(rows, "bar_yes_fraction", by_hand(table, "t03_bar_a06_bar_fraction", asked=asked))
    real = pd.Series(fixture["true_labels"][:len(table), 10], index=fixture["objids"][:len(table)])
    assert fixture["label_columns"][10] == "t03_bar_a06_bar_fraction"
    np.testing.assert_allclose(rows.loc[asked[asked].index, "bar_yes_fraction"].astype(float),
                               real[asked[asked].index], atol=5e-4)  # the real GZ2 value
    assert_same(rows, "spiral_no_count", by_hand(table, "t04_spiral_a09_no_spiral_count"))


def test_hart16_finds_the_zenodo_mapping_next_to_the_images(hart16, tmp_path):
    path, table, _ = hart16
    images = U.write_zenodo_gz2_images(tmp_path / "zenodo", list(table["dr7objid"]), blank=2)
    data = read_source(f"hart16:{path},images={images}")
    rows = data.surveys[0].frame
    assert list(rows["source_id"]) == list(table["dr7objid"])  # 18-digit ids kept as text
    assert [image is None for image in rows["image"]] == [k == 2 for k in range(len(table))]
    assert data.notes == ["sdss images named by asset_id, mapped to dr7objid through "
                          "gz2_filename_mapping.csv"]


def test_hart16_asset_id_images_without_the_mapping_say_what_to_pass(hart16, tmp_path):
    path, table, _ = hart16
    images = U.write_zenodo_gz2_images(tmp_path / "zenodo", list(table["dr7objid"]), mapping=False)
    with pytest.raises(SommelierError, match=r"named by asset_id \(e\.g\. \d+\.jpg\), not dr7objid"
                       r".*pass its mapping: hart16:.*,images=.*,mapping=gz2_filename_mapping\.csv"):
        build([f"hart16:{path},images={images}"], tmp_path / "out", progress=False)


# --- fractions without counts: refused by every reader, saying what to pass ----------------

def test_the_studys_fractions_only_ukidss_catalogue_is_refused(tmp_path):
    path = U.write_study_ukidss_catalogue(tmp_path, U.ukidss_fixture())
    with pytest.raises(SommelierError) as caught:
        build([f"ukidss-catalog:{path}"], tmp_path / "out", allow_unmatched=True, progress=False)
    message = str(caught.value)
    assert "no ukidss row has vote counts or totals" in message
    assert ("pass a release with counts instead: --source hf:mwalmsley/gz_ukidss (counts such as "
            "smooth-or-featured-ukidss_smooth, smooth-or-featured-ukidss_total-votes) or "
            "--source ukidss-catalog:CATALOGUE with its count columns") in message
    assert not (tmp_path / "out").exists()


def test_a_fractions_only_hub_release_is_refused(tmp_path):
    table = U.write_hf_gz2(tmp_path / "full")[1]
    fractions = table[[c for c in table.columns if not c.startswith(tuple(
        f"{q}-gz2" for q in U.GZ2_TREE.answers)) or c.endswith("_fraction")]]
    release = U.write_hub_release(tmp_path / "fractions", fractions, "gz2",
                                  U.default_and_tiny(len(table)))
    with pytest.raises(SommelierError, match=r"no sdss row has vote counts.*--source "
                       r"hf:mwalmsley/gz2 .* or --source hart16:CATALOGUE with its count columns"):
        build([f"hf:{release}"], tmp_path / "out", progress=False)


def test_a_hart16_table_without_counts_is_refused(hart16, tmp_path):
    path, table, _ = hart16
    table.drop(columns=[c for c in table.columns if c.endswith("_count")]).to_csv(path, index=False)
    with pytest.raises(SommelierError, match="no sdss row has vote counts or totals"):
        read_source(f"hart16:{path}")


def test_a_release_without_a_benchmark_question_is_refused_naming_it(tmp_path):
    path, table = U.write_zenodo_decals(tmp_path, U.DR5_TREE, "gz_decals_volunteers_5.csv")
    table.drop(columns=[c for c in table.columns if c.startswith("bar_")]).to_csv(path, index=False)
    with pytest.raises(SommelierError, match=r"found none \(closest is decals-zenodo-dr12, "
                       r"which lacks bar_yes_fraction, bar_no_fraction\)"):
        read_source(f"decals-zenodo:{path}")
