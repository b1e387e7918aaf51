"""Shift attribution on a small simulated benchmark: its two ends are the dataset's own UKIDSS
test and the same galaxies' SDSS rows, its shares follow their definitions, its JSON is
deterministic, bad inputs are one clear error, and a checkpoint runs through the CLI."""

from __future__ import annotations

import io
import json
import shutil
from types import SimpleNamespace

import datasets
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark import registry as R
from benchmark.cli.main import main
from benchmark.dataset.build import build
from benchmark.dataset.load import load_split
from benchmark.errors import ArgumentError, SommelierError
from benchmark.simulator.randomness import stream
from benchmark.cli.attribution import dataset_galaxies
from benchmark.simulator.studies.attribution import (FEATURES, attribute, attribution_table,
                                                     question_summary, write_attribution)
from benchmark.simulator.studies.shift_probe import fit_feature, image_features
from benchmark.simulator.writer import MANIFEST, TRUTH, simulate

N, SIZE = 300, 32


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("attribute")
    sim = simulate(root / "sim", n=N, seed=0, image_size=SIZE, progress=False)
    return sim, str(build([f"sim:{sim}"], root / "data", progress=False).out)


def _rows(data, survey, split):
    """Decoded images, fractions (NaN: not asked) and group ids of a dataset split."""
    columns = ["group_id", "image", *(R.fraction_column(f) for f in FEATURES)]
    frame = load_split(data, survey, split, columns=columns).cast_column(
        "image", datasets.Image(decode=False)).to_pandas()
    images = np.stack([np.asarray(Image.open(io.BytesIO(c["bytes"])).convert("RGB"))
                       for c in frame["image"]])
    fractions = frame[[R.fraction_column(f) for f in FEATURES]].to_numpy(float, na_value=np.nan)
    return images, fractions, frame["group_id"].to_numpy()


@pytest.fixture(scope="module")
def probe(simulated):
    """A cheap deterministic model: ridge regressions of rotation-invariant image features,
    fitted on the dataset's SDSS training split (no torch)."""
    images, fractions, _ = _rows(simulated[1], "sdss", "train")
    x = image_features(images)
    centre, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    x = (x - centre) / scale
    fits = [fit_feature(x[~np.isnan(y)], y[~np.isnan(y)], stream(0, "test", f))
            for f, y in zip(FEATURES, fractions.T)]
    return lambda rgb: np.column_stack([fit((image_features(rgb) - centre) / scale)
                                        for fit in fits])


@pytest.fixture(scope="module")
def attribution(simulated, probe):
    return attribute(dataset_galaxies(*simulated), probe, progress=False)


def _r(pred, truth):
    """Pearson r per feature where the truth is not null, and n."""
    known = ~np.isnan(truth)
    return ([np.corrcoef(p[k], t[k])[0, 1] for p, t, k in zip(pred.T, truth.T, known.T)],
            list(known.sum(axis=0)))


def _setting(attribution, label):
    (setting,) = [s for s in attribution.settings if s.label == label]
    return setting


def test_all_is_the_datasets_ukidss_test_and_sdss_its_paired_sdss_rows(attribution, simulated,
                                                                      probe):
    images, fractions, groups = _rows(simulated[1], "ukidss", "test")
    assert attribution.galaxies == len(groups)
    r, n = _r(probe(images), fractions)
    assert list(_setting(attribution, "all").r.values()) == pytest.approx(r, abs=1e-9)
    assert list(_setting(attribution, "all").n.values()) == n
    sdss_images, sdss_fractions, sdss_groups = _rows(simulated[1], "sdss", "paired_test")
    same = np.isin(sdss_groups, groups)
    assert same.sum() == len(groups)
    r, n = _r(probe(sdss_images[same]), sdss_fractions[same])
    assert list(_setting(attribution, "sdss").r.values()) == pytest.approx(r, abs=1e-9)
    assert list(_setting(attribution, "sdss").n.values()) == n


def test_views_follow_the_shift_settings(attribution):
    labels = [s.label for s in attribution.settings]
    assert labels[:3] == ["sdss", "all", "none"] and len(labels) == 3 + 2 * 4
    assert _setting(attribution, "all").shifts == attribution.shifts == (
        "resolution", "noise", "wavelength", "votes")
    assert _setting(attribution, "all but noise").shifts == ("resolution", "wavelength", "votes")
    assert _setting(attribution, "sdss").r != _setting(attribution, "none").r


def test_shares_follow_their_definitions(attribution):
    sdss, everything = _setting(attribution, "sdss"), _setting(attribution, "all")
    for a in attribution.features[:-1]:
        f = a.feature
        drop = sdss.r[f] - everything.r[f]
        assert a.drop == pytest.approx(drop)
        assert a.campaign == pytest.approx(sdss.r[f] - _setting(attribution, "none").r[f])
        for shift, part in a.shifts.items():
            alone = sdss.r[f] - _setting(attribution, f"{shift} only").r[f]
            last = _setting(attribution, f"all but {shift}").r[f] - everything.r[f]
            assert (part.alone, part.last) == pytest.approx((alone, last))
            assert (part.alone_share, part.last_share) == pytest.approx((alone / drop,
                                                                         last / drop))
    mean = attribution.features[-1]
    assert mean.feature == "mean"
    assert mean.drop == pytest.approx(np.mean([a.drop for a in attribution.features[:-1]]))
    (bar,) = [q for q in attribution.questions if q.feature == "bar"]
    yes, no = (a.shifts["noise"].last for a in attribution.features
               if R.QUESTION_OF_FEATURE.get(a.feature) == "bar")
    assert bar.shifts["noise"].last == pytest.approx((yes + no) / 2)


def test_same_arguments_give_the_same_bytes(tmp_path, simulated, probe):
    for name in ("first", "second"):
        write_attribution(attribute(dataset_galaxies(*simulated, n=20), probe, progress=False),
                          tmp_path / f"{name}.json")
    assert (tmp_path / "first.json").read_bytes() == (tmp_path / "second.json").read_bytes()
    written = json.loads((tmp_path / "first.json").read_text())
    assert written["galaxies"] == 20
    assert set(written["definitions"]) >= {"drop", "alone", "last", "shares"}
    assert written["features"][0]["shifts"]["wavelength"].keys() == {
        "alone", "last", "alone_share", "last_share"}


def test_n_takes_the_first_galaxies_in_simulation_order(simulated):
    every = dataset_galaxies(*simulated).galaxies
    assert list(dataset_galaxies(*simulated, n=10).galaxies) == list(every[:10])
    assert np.all(np.diff(every) > 0)
    with pytest.raises(ArgumentError, match="positive"):
        dataset_galaxies(*simulated, n=0)


def test_the_report_reads_as_a_table_and_one_line_per_question(attribution):
    table = attribution_table(attribution)
    assert "| spiral_yes" in table and "wavelength" in table and "campaign" in table
    lines = question_summary(attribution)
    assert [line.split(":")[0].strip() for line in lines] == list(R.BENCHMARK_QUESTIONS)


def _copy_simulation(sim, folder, **settings):
    folder.mkdir()
    shutil.copy(sim / TRUTH, folder / TRUTH)
    manifest = json.loads((sim / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps({**manifest, **settings}))
    return folder


@pytest.mark.parametrize("settings, message", [
    ({"shifts": ["wavelength", "colour"]}, "unknown shift 'colour'"),
    ({"shifts": []}, "every shift off"),
    ({"seed": 1}, "not the population"),
])
def test_a_simulation_that_cannot_be_rendered_again_is_refused(tmp_path, simulated, settings,
                                                               message):
    sim = _copy_simulation(simulated[0], tmp_path / "sim", **settings)
    with pytest.raises(SommelierError, match=message):
        dataset_galaxies(sim, simulated[1])


def test_a_dataset_built_from_another_simulation_is_refused(tmp_path, simulated):
    other = simulate(tmp_path / "other", n=N, seed=1, image_size=16, progress=False)
    with pytest.raises(SommelierError, match="are not in the simulation"):
        dataset_galaxies(other, simulated[1])
    with pytest.raises(SommelierError, match="not a simulation"):
        dataset_galaxies(tmp_path, simulated[1])


def test_cli_errors_are_one_line(tmp_path, simulated, capsys):
    code = main(["attribute", "--sim", str(tmp_path), "--data", simulated[1],
                 "--checkpoint", str(tmp_path)])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "not a simulation" in err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, simulated):
    """A tiny randomly initialised DINOv2 with one epoch of its head trained on SDSS."""
    from baselines.train import train
    from tests.baselines_support import tiny_config

    root = tmp_path_factory.mktemp("model")
    config = tiny_config(root / "cache",
                         stages=[{"name": "head", "backbone": "frozen", "epochs": 1}])
    return train(config, simulated[1], seed=0, out=root / "run")


def test_a_checkpoint_runs_through_the_cli_as_sommelier_predict_runs_it(tmp_path, simulated,
                                                                        checkpoint, capsys):
    from benchmark.cli.models import predict

    sim, data = simulated
    out = tmp_path / "attribution.json"
    assert main(["attribute", "--sim", str(sim), "--data", data, "--checkpoint",
                 str(checkpoint), "--n", "20", "--quiet", "--out", str(out)]) == 0
    assert "| smooth" in capsys.readouterr().out
    chosen = dataset_galaxies(sim, data, n=20)
    ukidss_ids = chosen.simulation.truth.set_index("galaxy")["ukidss_id_str"]
    ids = [R.make_id("ukidss", i) for i in ukidss_ids.loc[chosen.galaxies]]
    (written,) = predict(checkpoint, data, ["ukidss:test"], tmp_path / "entry")
    predicted = pd.read_parquet(written)  # in the split's order, as the truth is read
    _, fractions, _ = _rows(data, "ukidss", "test")
    same = predicted["id_str"].isin(ids).to_numpy()
    r, _ = _r(predicted[list(FEATURES)].to_numpy()[same], fractions[same])
    everything = [s for s in json.loads(out.read_text())["settings"] if s["label"] == "all"]
    assert list(everything[0]["r"].values()) == pytest.approx(r, abs=1e-5)


def test_the_quick_start_summarises_its_best_model(simulated, checkpoint):
    from benchmark.cli.quickstart import best_model_attribution

    def ranked(slug, primary):
        return SimpleNamespace(sub=SimpleNamespace(slug=slug), primary=primary)

    rows = [ranked("quickstart-constant-sdss", None), ranked("quickstart-tiny", 0.3)]
    text = best_model_attribution(simulated[0], simulated[1], {
        "quickstart-constant-sdss": checkpoint, "quickstart-tiny": checkpoint}, rows, False)
    lines = text.splitlines()
    assert lines[0].startswith("Where tiny (seed 0)") and len(lines) == 2 + 4
    assert lines[-1] == (f"All of it: sommelier attribute --sim {simulated[0]} --data "
                         f"{simulated[1]} --checkpoint {checkpoint}")
    assert best_model_attribution(simulated[0], simulated[1], {}, rows, False) == ""
