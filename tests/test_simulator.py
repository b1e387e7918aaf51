"""The survey simulator: output contract, determinism, footprints, calibration, errors."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from benchmark import registry as R
from benchmark.cli.main import main
from benchmark.errors import SommelierError
from benchmark.simulator import render, writer
from benchmark.simulator.studies import calibration
from benchmark.simulator.photometry import COMPONENT_INDEX, component_fluxes
from benchmark.simulator.population import draw_population
from benchmark.simulator.randomness import stream
from benchmark.simulator.shifts import SHIFTS, parse_shifts, shifted_optics
from benchmark.simulator.surveys import REFERENCE, SURVEY_OPTICS
from benchmark.simulator.visibility import measure
from benchmark.simulator.votes import canonical_fractions, cast_votes

ID_PATTERNS = {"sdss": r"\d{18}", "decals": r"J\d{6}\.\d{2}[+-]\d{6}\.\d", "ukidss": r"[0-9a-f]{24}"}
SMALL = dict(n=60, seed=3, image_size=32, progress=False)


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Path:
    return writer.simulate(tmp_path_factory.mktemp("sim") / "out", **SMALL)


def _release(root: Path, survey: str) -> pd.DataFrame:
    folder = root / SURVEY_OPTICS[survey].release
    parts = []
    for split in writer.SPLITS:
        for shard in sorted((folder / "data").glob(f"{split}-*.parquet")):
            parts.append(pq.read_table(shard).to_pandas().assign(split=split))
    return pd.concat(parts, ignore_index=True)


def _digest(root: Path) -> str:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return hashlib.sha256(b"".join(p.relative_to(root).as_posix().encode() + p.read_bytes()
                                   for p in files)).hexdigest()


def test_layout_and_card_name_the_shards(sim):
    assert {p.name for p in sim.iterdir()} == {
        "gz2", "gz_decals", "gz_ukidss", "id_map.csv", "truth.parquet", "probabilities.parquet",
        "simulation.json"}
    for optics in SURVEY_OPTICS.values():
        card = (sim / optics.release / "README.md").read_text()
        meta = yaml.safe_load(card.split("---")[1])
        (config,) = meta["configs"]
        assert config["config_name"] == "default"
        assert [f["split"] for f in config["data_files"]] == ["train", "test"]
        for f in config["data_files"]:
            assert list((sim / optics.release).glob(f["path"]))


@pytest.mark.parametrize("survey", list(R.SURVEYS))
def test_columns_types_and_ids_follow_the_release(sim, survey):
    optics = SURVEY_OPTICS[survey]
    scheme = optics.scheme
    shard = next((sim / optics.release / "data").glob("train-*.parquet"))
    schema = pq.read_schema(shard)
    expected = ["id_str", "image"] + (["ra", "dec"] if optics.has_coordinates else [])
    for q in R.QUESTIONS:
        if q.name in scheme.questions:
            for a in q.answers:
                for count, frac in zip(scheme.count_columns(a), scheme.fraction_columns(a)):
                    expected += [count, frac]
            expected.append(scheme.total_column(q.name))
    assert schema.names == expected
    types = {f.name: str(f.type) for f in schema}
    assert types["id_str"] == "string"
    assert all(types[c] == "double" for c in expected if c in ("ra", "dec"))
    assert all(types[c] == "int32" for c in expected if c.endswith("total-votes"))
    assert all(types[c] == "float" for c in expected if c.endswith("_fraction"))
    frame = _release(sim, survey)
    assert frame["id_str"].str.fullmatch(ID_PATTERNS[survey]).all()
    assert frame["id_str"].is_unique
    image = frame["image"].iloc[0]
    from PIL import Image
    assert Image.open(io.BytesIO(image["bytes"])).size == (SMALL["image_size"],) * 2


@pytest.mark.parametrize("survey", list(R.SURVEYS))
def test_votes_walk_the_tree(sim, survey):
    scheme = SURVEY_OPTICS[survey].scheme
    frame = _release(sim, survey)
    for q in R.QUESTIONS:
        if q.name not in scheme.questions:
            continue
        total = frame[scheme.total_column(q.name)]
        counts = sum(frame[c] for a in q.answers for c in scheme.count_columns(a))
        assert (counts == total).all()
        fractions = frame[[c for a in q.answers for c in scheme.fraction_columns(a)]]
        assert fractions[total == 0].isna().all().all()  # null where not asked
        assert np.allclose(fractions[total > 0].sum(axis=1), 1.0, atol=1e-5)
        if q.parent is not None:
            parent = sum(frame[c] for c in scheme.count_columns(q.parent))
            assert (total == parent).all()
    if survey == "decals":
        assert {"bar-dr5_strong", "bar-dr5_weak", "bulge-size-dr5_large"} <= set(frame.columns)


def test_truth_and_id_map_recover_identity(sim):
    truth = pq.read_table(sim / "truth.parquet").to_pandas()
    assert len(truth) == SMALL["n"]
    id_map = pd.read_csv(sim / "id_map.csv", dtype=str)
    ukidss = _release(sim, "ukidss")
    assert set(id_map["ukidss"]) == set(ukidss["id_str"])
    by_ukidss = truth.set_index("ukidss_id_str")
    assert (by_ukidss.loc[id_map["ukidss"], "sdss_id_str"].to_numpy() == id_map["sdss"]).all()
    for survey in ("sdss", "decals"):
        seen = _release(sim, survey).merge(truth, left_on="id_str", right_on=f"{survey}_id_str",
                                          suffixes=("", "_true"))
        assert len(seen) == truth[f"{survey}_id_str"].notna().sum()
        offset = np.hypot((seen["ra"] - seen["ra_true"]) * np.cos(np.radians(seen["dec"])),
                          seen["dec"] - seen["dec_true"]) * 3600
        assert 0 < offset.max() < 1.0
    manifest = json.loads((sim / "simulation.json").read_text())
    assert manifest["n"] == SMALL["n"] and manifest["shifts"] == list(SHIFTS)


@pytest.mark.parametrize("survey", list(R.SURVEYS))
def test_probabilities_are_kept_apart_and_drew_the_votes(sim, survey):
    probs = pq.read_table(sim / writer.PROBABILITIES).to_pandas()
    probs = probs[probs["survey"] == survey]
    release = _release(sim, survey)
    assert not [c for c in release.columns if "probabilit" in c]
    both = release.merge(probs, on="id_str", suffixes=("", "_p"))
    assert len(both) == len(release) == len(probs)
    assert (both["split"] == both["split_p"]).all()
    truth = pq.read_table(sim / "truth.parquet").to_pandas()
    assert (truth.loc[both["galaxy"], f"{survey}_id_str"].to_numpy() == both["id_str"]).all()
    scheme = SURVEY_OPTICS[survey].scheme
    for q in R.QUESTIONS:
        columns = both[[writer.probability_column(a) for a in q.answers]]
        if q.name in scheme.questions:  # every galaxy, asked or not: p given the question
            assert np.allclose(columns.sum(axis=1), 1.0)
        else:
            assert columns.isna().all().all()
    fractions = canonical_fractions(both, scheme)
    assert np.corrcoef(fractions["smooth"], both["smooth_probability"])[0, 1] > 0.9


def test_same_arguments_same_bytes_other_seed_other_bytes(sim, tmp_path):
    again = writer.simulate(tmp_path / "again", **SMALL)
    assert _digest(again) == _digest(sim)
    other = writer.simulate(tmp_path / "other", **{**SMALL, "seed": 4})
    assert _digest(other) != _digest(sim)


def test_footprints_nest_and_overlap():
    pop = draw_population(4000, stream(0, "population"))
    sdss, decals, ukidss = (pop.in_survey(s) for s in ("sdss", "decals", "ukidss"))
    assert ukidss.any() and not (ukidss & ~sdss).any()
    share = (sdss & decals).sum() / sdss.sum()
    assert 0.1 < share < 0.9
    assert (decals & ~sdss).any()
    assert (ukidss & ~decals).any() and (ukidss & decals).any()


def test_decals_volunteers_are_bimodal():
    votes = SURVEY_OPTICS["decals"].volunteers.draw(4000, np.random.default_rng(0))
    assert ((votes < 10).mean() > 0.3) and ((votes > 30).mean() > 0.3)
    assert ((votes >= 10) & (votes <= 25)).mean() < 0.05


def test_calibration_against_real_label_means():
    table = calibration.label_statistics(n=3000, seed=0).set_index(["survey", "feature"])
    for survey in calibration.REAL:
        for feature in calibration.CALIBRATED:
            row = table.loc[(survey, feature)]
            assert abs(row["mean"] - row["real_mean"]) < calibration.TOLERANCE, (survey, feature)
    assert table.loc[("ukidss", "smooth"), "mean"] > table.loc[("sdss", "smooth"), "mean"]
    assert (table.loc[("ukidss", "featured_or_disk"), "mean"]
            < table.loc[("sdss", "featured_or_disk"), "mean"])


def test_ukidss_bars_agree_with_sdss_as_real_ones_do_and_are_rarely_confident():
    simulated = calibration.bar_statistics(n=3000, seed=0).set_index(
        ["statistic", "survey"])["simulated"]
    rho = simulated[("bar_rho", "ukidss vs sdss")]
    assert abs(rho - calibration.BAR_AGREEMENT) < calibration.BAR_AGREEMENT_TOLERANCE
    confident = simulated["confident_bars"]
    assert confident["ukidss"] < calibration.CONFIDENT_BAR_MAX_SHARE
    assert confident["ukidss"] < confident["sdss"]


def test_near_infrared_shows_bulges_more_and_arms_less():
    pop = draw_population(500, stream(1, "population"))
    disks = pop.take(np.flatnonzero((pop.arm_frac > 0) & (pop.bar_frac > 0)))
    optical = component_fluxes(disks, SURVEY_OPTICS["sdss"].bands)
    infrared = component_fluxes(disks, SURVEY_OPTICS["ukidss"].bands)
    arms, bulge, bar = (COMPONENT_INDEX[c] for c in ("arms", "bulge", "bar"))
    assert (infrared[:, arms].sum(1) / infrared[:, bulge].sum(1)
            < optical[:, arms].sum(1) / optical[:, bulge].sum(1)).all()
    assert (infrared[:, bar].sum(1) / infrared.sum((1, 2))
            > optical[:, bar].sum(1) / optical.sum((1, 2))).all()


def test_visibility_follows_each_shift():
    pop = draw_population(3000, stream(2, "population"))
    spirals = pop.take(np.flatnonzero(pop.arm_frac > 0))
    mean_arms = {name: measure(spirals, shifted_optics(on)["ukidss"]).arms.mean()
                 for name, on in {"all": SHIFTS, "no noise": ("resolution", "wavelength"),
                                  "none": ()}.items()}
    assert mean_arms["all"] < mean_arms["no noise"]
    sdss = measure(spirals, SURVEY_OPTICS["sdss"]).arms.mean()
    assert mean_arms["none"] == pytest.approx(sdss)


def test_switched_off_shift_copies_the_reference():
    reference = SURVEY_OPTICS[REFERENCE]
    for shift in SHIFTS.values():
        optics = shifted_optics(set(SHIFTS) - {shift.name})["ukidss"]
        for field in shift.fields:
            assert getattr(optics, field) == getattr(reference, field)
        assert optics.footprint == SURVEY_OPTICS["ukidss"].footprint
    assert parse_shifts(["none"]) == () and parse_shifts(["all"]) == tuple(SHIFTS)


def test_votes_depend_on_the_image_not_only_the_truth():
    pop = draw_population(3000, stream(5, "population"))
    seen = pop.take(np.flatnonzero(pop.in_survey("ukidss")))
    optics = shifted_optics(())  # every survey like SDSS
    fractions = {name: canonical_fractions(cast_votes(measure(seen, optics[name]), optics[name],
                                                      np.random.default_rng(0)),
                                           optics[name].scheme).fillna(0).mean()
                 for name in ("sdss", "ukidss")}
    assert fractions["sdss"]["spiral_yes"] == pytest.approx(fractions["ukidss"]["spiral_yes"],
                                                            abs=0.03)
    shifted = SURVEY_OPTICS["ukidss"]
    real = canonical_fractions(cast_votes(measure(seen, shifted), shifted,
                                          np.random.default_rng(0)), shifted.scheme)
    assert real.fillna(0).mean()["featured_or_disk"] < fractions["sdss"]["featured_or_disk"]


def test_rendered_galaxy_sits_in_the_middle_and_is_brighter_than_the_sky():
    pop = draw_population(20, stream(6, "population"))
    rgb = render.render(pop, SURVEY_OPTICS["sdss"], 48, np.random.default_rng(0))
    assert rgb.shape == (20, 48, 48, 3) and rgb.dtype == np.uint8
    light = rgb.astype(float).sum(-1)
    assert (light[:, 20:28, 20:28].mean((1, 2)) > 3 * light[:, :8, :8].mean((1, 2))).all()


@pytest.mark.parametrize("kwargs,message", [
    (dict(n=-5), "positive integer"), (dict(n=0), "positive integer"),
    (dict(seed=-1), "non-negative"), (dict(image_size=8), "image size"),
    (dict(shifts=("blur",)), "unknown shift 'blur'"),
])
def test_bad_arguments_are_refused(tmp_path, kwargs, message):
    with pytest.raises(SommelierError, match=message):
        writer.simulate(tmp_path / "out", **{**SMALL, **kwargs})
    assert not (tmp_path / "out").exists()


def test_unwritable_or_foreign_folder_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SommelierError, match="cannot write"):
        writer.simulate(blocker / "out", **SMALL)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(SommelierError, match="not empty"):
        writer.simulate(foreign, **SMALL)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_interrupted_run_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    calls = []

    def interrupt(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    original = writer._write_release
    monkeypatch.setattr(writer, "_write_release", interrupt)
    with pytest.raises(KeyboardInterrupt):
        writer.simulate(tmp_path / "out", **SMALL)
    assert list(tmp_path.iterdir()) == []


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["sim", "--out", str(tmp_path / "o"), "--n", "-3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "positive integer" in err
    assert main(["sim", "--out", str(tmp_path / "o"), "--shift", "colour"]) == 2
    assert "unknown shift" in capsys.readouterr().err


def test_cli_writes_a_simulation(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["sim", "--out", str(out), "--n", "20", "--image-size", "16", "--seed", "2",
                 "--shift", "noise", "--quiet"]) == 0
    manifest = json.loads((out / "simulation.json").read_text())
    assert manifest["shifts"] == ["noise"] and manifest["image_size"] == 16
    assert re.search(str(out), capsys.readouterr().out)


@pytest.mark.parametrize("size", [32, 424])
def test_sky_noise_matches_the_survey_depth(size):
    pop = draw_population(3, stream(7, "population"))
    optics = SURVEY_OPTICS["ukidss"]
    image = render.observe(pop, optics, size, np.random.default_rng(0))
    corner = image[:, :, : size // 6, :]  # a strip of sky above the galaxy
    pix = render.pixel_scale(pop, optics, size)
    expected = render.sky_noise(optics)[None] * np.minimum(1.0, optics.pixel_scale / pix[:, None])
    assert np.allclose(corner.std(axis=(2, 3)), expected, rtol=0.15)
