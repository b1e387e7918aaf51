"""The dataset builder: sources in every upstream format -> leakage-free published splits."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.dataset import layout as D
from benchmark.dataset.load import load_split, load_truth
from benchmark import registry as R
from benchmark.dataset.build import build
from benchmark.errors import SommelierError
from benchmark.dataset.publish import download, push, verify_manifest
from tests.conftest import ROOT
from tests.fakes import fake_image, fake_labels


@pytest.fixture(scope="module")
def sim_folder(tmp_path_factory) -> Path:
    from benchmark.simulator.writer import simulate

    return simulate(tmp_path_factory.mktemp("sim") / "sim", n=300, seed=3, image_size=32,
                    progress=False)


@pytest.fixture(scope="module")
def built(sim_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "bench"
    build([f"sim:{sim_folder}"], out, progress=False)
    return out


def test_every_config_and_split_loads_with_documented_columns(built):
    for survey in R.SURVEYS:
        for split in R.SURVEYS[survey].splits:
            ds = load_split(str(built), survey, split)
            assert len(ds) > 0
            assert ds.column_names == list(D.META_COLUMNS) + [D.IMAGE_COLUMN] + D.label_columns()
            assert ds[0]["image"].size == (32, 32)
            assert ds.features[R.fraction_column("bar_yes")].dtype == "float32"
            assert ds.features[R.count_column("bar_yes")].dtype == "int32"
    ukidss = load_truth(str(built), "ukidss", "test")
    assert ukidss["ra"].isna().all() and ukidss["id_str"].str.startswith("ukidss:").all()
    decals = load_truth(str(built), "decals", "train")
    assert decals[R.count_column("odd_yes")].isna().all()  # DECaLS DR5 has no 'odd' question


def test_no_ukidss_galaxy_outside_the_paired_splits(built, sim_folder):
    ukidss = {s: set(load_truth(str(built), "ukidss", s)["group_id"]) for s in ("test", "validation")}
    for survey in ("sdss", "decals"):
        for split in ("train", "validation", "test"):
            assert not (ukidss["test"] | ukidss["validation"]) & set(
                load_truth(str(built), survey, split)["group_id"])
        for split, paired in R.PAIRED_SPLIT.items():  # paired_test: the optical views of test
            groups = set(load_truth(str(built), survey, paired)["group_id"])
            assert groups <= ukidss[split]
    # the same galaxies really are in several surveys: every UKIDSS galaxy has an SDSS twin
    assert ukidss["test"] == set(load_truth(str(built), "sdss", "paired_test")["group_id"])
    truth = pd.read_parquet(sim_folder / "truth.parquet")
    assert truth["ukidss_id_str"].notna().sum() == sum(
        len(load_truth(str(built), "ukidss", s)) for s in R.SURVEYS["ukidss"].splits)


def test_same_inputs_give_identical_bytes(built, sim_folder, tmp_path):
    again = tmp_path / "again"
    build([f"sim:{sim_folder}"], again, progress=False)
    assert (again / D.MANIFEST).read_bytes() == (built / D.MANIFEST).read_bytes()
    assert verify_manifest(again) > 3


def _build_command(sim_folder: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "benchmark.cli", "data", "build", "--source", f"sim:{sim_folder}",
            "--out", str(out), "--quiet"]


@pytest.mark.slow
def test_killed_build_leaves_nothing_complete_and_rerun_matches(built, sim_folder, tmp_path):
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (1.0, 2.5):
        proc = subprocess.Popen(_build_command(sim_folder, out), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not out.exists() or verify_manifest(out)  # absent, or complete
    subprocess.run(_build_command(sim_folder, out), env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert (out / D.MANIFEST).read_bytes() == (built / D.MANIFEST).read_bytes()


# --- raw catalogues ------------------------------------------------------------------------

def upstream_votes(labels: pd.DataFrame, scheme: R.NamingScheme) -> pd.DataFrame:
    """Canonical labels written in an upstream scheme's names (summed answers split in two)."""
    out: dict[str, pd.Series] = {}
    for feature in R.ALL_FEATURES:
        counts, fractions = scheme.count_columns(feature), scheme.fraction_columns(feature)
        count = labels[R.count_column(feature)].astype("float64")
        fraction = labels[R.fraction_column(feature)].astype("float64")
        first = np.floor(count / 2) if len(counts) == 2 else count
        shares = [first, count - first][: len(counts)]
        for col, part in zip(counts, shares):
            out[col] = part
        for col, part in zip(fractions, shares):
            share = np.where(count > 0, part / count.where(count > 0, 1), 1 / len(fractions))
            out[col] = share * fraction
    for question in R.QUESTIONS:
        if (col := scheme.total_column(question.name)) is not None:
            out[col] = labels[R.total_votes_column(question.name)]
    return pd.DataFrame(out).fillna({c: 0 for c in out if not c.endswith("fraction")})


def write_catalogue(folder: Path, scheme: str, ids: dict[str, list[str]], images: list[str | None]):
    labels = fake_labels(len(images), seed=len(images))
    table = pd.concat([pd.DataFrame(ids), upstream_votes(labels, R.NAMING_SCHEMES[scheme])], axis=1)
    (folder / "images").mkdir(parents=True)
    for k, name in enumerate(images):
        if name is not None:
            (folder / "images" / name).write_bytes(b"not an image" if "corrupt" in name else fake_image(k))
    table.to_csv(folder / "catalogue.csv", index=False)
    return folder / "catalogue.csv", labels


def test_hart16_catalogue_counts_missing_and_corrupt_images(tmp_path):
    ids = [str(587_000_000_000_000_000 + k) for k in range(6)]
    names = [f"{i}.jpg" for i in ids[:4]] + [None, f"{ids[5]}-corrupt.jpg"]
    path, labels = write_catalogue(tmp_path, "hart16", {"dr7objid": ids, "ra": np.linspace(10, 11, 6),
                                                          "dec": np.zeros(6)}, names)
    (tmp_path / "images" / f"{ids[5]}-corrupt.jpg").rename(tmp_path / "images" / f"{ids[5]}.jpg")
    report = build([f"hart16:{path}"], tmp_path / "out", progress=False)
    assert report.dropped == {("sdss", "missing image"): 1, ("sdss", "corrupt image"): 1}
    assert sum(report.split_sizes.values()) == 4
    rows = pd.concat(load_truth(str(tmp_path / "out"), survey, split)
                     for survey, split in report.split_sizes)
    got = rows.set_index("source_id").loc[ids[0], R.fraction_column("smooth")]
    assert got == pytest.approx(labels.loc[0, R.fraction_column("smooth")], abs=1e-6)
    with pytest.raises(SommelierError, match="strict mode: 2 rows"):
        build([f"hart16:{path}"], tmp_path / "strict", strict=True, progress=False)


def test_decals_zenodo_bar_yes_is_strong_plus_weak(tmp_path):
    ids = [f"J0000{k:02d}.00+000000.0" for k in range(5)]
    path, labels = write_catalogue(tmp_path, "decals-zenodo",
                                   {"iauname": ids, "ra": np.arange(5.0), "dec": np.zeros(5)},
                                   [f"{i}.jpg" for i in ids])
    report = build([f"decals-zenodo:{path}"], tmp_path / "out", progress=False)
    rows = pd.concat(load_truth(str(tmp_path / "out"), survey, split)
                     for survey, split in report.split_sizes)
    rows = rows.set_index("source_id").loc[ids]
    np.testing.assert_array_equal(rows[R.count_column("bar_yes")], labels[R.count_column("bar_yes")])
    np.testing.assert_allclose(rows[R.fraction_column("bar_yes")].astype(float),
                               labels[R.fraction_column("bar_yes")].astype(float), atol=1e-6)


def _fits_cube(path: Path) -> None:
    from astropy.io import fits

    cube = np.random.default_rng(0).gamma(2.0, 1.0, size=(3, 24, 24)).astype("float32")
    fits.PrimaryHDU(cube).writeto(path)


def test_ukidss_catalogue_fits_images_and_the_leakage_refusal(tmp_path):
    subjects = [f"{k:024x}" for k in range(4)]
    path, _ = write_catalogue(tmp_path, "hf-ukidss", {"subject_id": subjects, "subfolder": ["a"] * 4,
                                                      "filename": [f"{s}.fits" for s in subjects]},
                              [None] * 4)
    (tmp_path / "images" / "a").mkdir()
    for s in subjects:
        _fits_cube(tmp_path / "images" / "a" / f"{s}.fits")
    with pytest.raises(SommelierError, match="sdss was not read, so ukidss cannot be matched"):
        build([f"ukidss-catalog:{path}"], tmp_path / "refused", progress=False)
    assert not (tmp_path / "refused").exists()
    report = build([f"ukidss-catalog:{path}"], tmp_path / "out", allow_unmatched=True, progress=False)
    assert report.unmatched == ["ukidss"]
    assert "leakage of this build is UNKNOWN" in (tmp_path / "out" / "README.md").read_text()
    image = load_split(str(tmp_path / "out"), "ukidss", "test")[0]["image"]
    assert image.format == "JPEG" and np.asarray(image).std() > 0  # a real stretch, not black


def test_impossible_votes_and_duplicates_are_dropped_and_counted(tmp_path):
    ids = ["1", "2", "2", "3"]
    path, _ = write_catalogue(tmp_path, "hart16", {"dr7objid": ids, "ra": [1.0, 2, 3, 4],
                                                   "dec": [0.0] * 4}, [f"{i}.jpg" for i in ("1", "2", "x", "3")])
    table = pd.read_csv(path)
    table.loc[3, "t01_smooth_or_features_a01_smooth_fraction"] = 1.7
    table.to_csv(path, index=False)
    report = build([f"hart16:{path}"], tmp_path / "out", progress=False)
    assert report.dropped == {("sdss", "duplicate id"): 2, ("sdss", "impossible votes"): 1}
    table["t01_smooth_or_features_a01_smooth_fraction"] = 5.0
    table.to_csv(path, index=False)
    with pytest.raises(SommelierError, match="every row of sdss failed the checks"):
        build([f"hart16:{path}"], tmp_path / "none", progress=False)


@pytest.mark.parametrize("text,message", [
    ("nope:x", "unknown kind"), ("sim", "KIND:PATH"), ("hart16:x.csv,images", "key=value"),
])
def test_bad_source_names_are_clear_errors(text, message, tmp_path):
    with pytest.raises(SommelierError, match=message):
        build([text], tmp_path / "out", progress=False)


def test_cli_reports_bad_sources_without_traceback(tmp_path):
    proc = subprocess.run(_build_command(tmp_path / "missing", tmp_path / "out"), capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "not a simulator output folder" in proc.stderr


# --- publishing ----------------------------------------------------------------------------

class RecordingApi:
    def __init__(self):
        self.calls = []

    def create_repo(self, repo, **kwargs):
        self.calls.append(("create_repo", repo, kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs["repo_id"], kwargs))


def test_push_dry_run_lists_files_and_push_uploads_the_folder(built):
    files = push(built, "org/bench", dry_run=True)
    assert "README.md" in files and D.MANIFEST in files
    assert any(f.startswith("data/ukidss/test-") for f in files)
    api = RecordingApi()
    push(built, "org/bench", api=api)
    assert [c[0] for c in api.calls] == ["create_repo", "upload_folder"]
    assert api.calls[1][2]["repo_type"] == "dataset" and api.calls[1][2]["folder_path"] == str(built)


def test_download_verifies_the_manifest(built, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    assert download(str(copy), tmp_path / "unused") == copy
    shard = next((copy / "data" / "ukidss").glob("test-*.parquet"))
    shard.write_bytes(shard.read_bytes() + b"tampered")
    with pytest.raises(SommelierError, match="differ from MANIFEST"):
        download(str(copy), tmp_path / "unused")


def test_fits_to_rgb_is_a_decodable_jpeg(tmp_path):
    from PIL import Image

    from benchmark.dataset.sources import image_bytes

    _fits_cube(tmp_path / "g.fits")
    assert Image.open(io.BytesIO(image_bytes(tmp_path / "g.fits"))).size == (24, 24)


def test_a_gzipped_catalogue_reads_like_the_plain_one(tmp_path):
    """Upstream catalogues are often published as .csv.gz."""
    import gzip

    ids = [str(587_000_000_000_000_000 + k) for k in range(4)]
    path, _ = write_catalogue(tmp_path, "hart16", {"dr7objid": ids, "ra": np.linspace(10, 11, 4),
                                                   "dec": np.zeros(4)}, [f"{i}.jpg" for i in ids])
    zipped = path.with_name("catalogue.csv.gz")
    zipped.write_bytes(gzip.compress(path.read_bytes()))
    plain = build([f"hart16:{path}"], tmp_path / "plain", progress=False)
    packed = build([f"hart16:{zipped}"], tmp_path / "packed", progress=False)
    assert packed.split_sizes == plain.split_sizes and sum(packed.split_sizes.values()) == 4


def test_a_gz_desi_table_takes_each_galaxys_own_campaign(tmp_path):
    """mwalmsley/gz_desi puts -dr12, -dr5 and -dr8 columns side by side, each galaxy voted on
    in one campaign. GZD-1/2 (-dr12) asks bar yes/no; DR5 strong/weak/no. No row may be lost
    to another campaign's empty columns, and every bar_yes comes from its own campaign."""
    import datasets

    from benchmark.hub_layout import configs_front_matter, write_split

    n = 12
    labels = fake_labels(n, seed=4)
    parts = []
    for k, scheme in enumerate(("hf-dr12", "hf-dr5", "hf-dr8")):
        votes = upstream_votes(labels, R.NAMING_SCHEMES[scheme])
        votes.loc[[i for i in range(n) if i % 3 != k]] = np.nan  # one campaign per galaxy
        parts.append(votes)
    frame = pd.concat([pd.DataFrame({"id_str": [f"J{i:04d}" for i in range(n)],
                                     "ra": np.linspace(20, 21, n), "dec": np.zeros(n)}),
                       *parts], axis=1)
    frame["image"] = [{"bytes": fake_image(i), "path": None} for i in range(n)]
    features = datasets.Features.from_arrow_schema(
        datasets.Dataset.from_pandas(frame.drop(columns="image")).data.schema)
    features["image"] = datasets.Image()
    release = tmp_path / "gz_desi"
    write_split(datasets.Dataset.from_pandas(frame, features=features, preserve_index=False),
                release / "data", "train")
    (release / "README.md").write_text(configs_front_matter(
        {"default": {"train": "data/train-*.parquet"}}) + "\n# fake gz_desi\n")
    report = build([f"hf:{release}"], tmp_path / "out", progress=False)
    assert report.dropped == {} and sum(report.split_sizes.values()) == n
    rows = pd.concat(load_truth(str(tmp_path / "out"), s, p) for s, p in report.split_sizes)
    got = rows.set_index("source_id")[R.fraction_column("bar_yes")].astype(float)
    want = labels[R.fraction_column("bar_yes")].astype(float)
    want.index = [f"J{i:04d}" for i in range(n)]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False,
                                   atol=1e-6)


def test_gz2_images_in_galaxy_datasets_folders_are_found(tmp_path):
    """galaxy-datasets lays GZ2 images out as {dr7objid[:6]}/{dr7objid}.jpg."""
    ids = [str(587_722_981_741_363_290 + k) for k in range(3)]
    path, _ = write_catalogue(tmp_path, "hart16", {"dr7objid": ids, "ra": np.linspace(10, 11, 3),
                                                   "dec": np.zeros(3)}, [f"{i}.jpg" for i in ids])
    for i in ids:
        (tmp_path / "images" / i[:6]).mkdir(exist_ok=True)
        (tmp_path / "images" / f"{i}.jpg").rename(tmp_path / "images" / i[:6] / f"{i}.jpg")
    report = build([f"hart16:{path}"], tmp_path / "out", progress=False)
    assert report.dropped == {} and sum(report.split_sizes.values()) == 3
