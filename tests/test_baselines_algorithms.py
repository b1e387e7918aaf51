"""Training algorithms: each does what its paper says on a toy, refuses configs it cannot train,
and its tiny config trains an epoch into a valid entry; reference configs are compute matched."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import baselines.finetune as finetune
from baselines.algorithms import (ALGORITHMS, Position, build_algorithm, check_algorithm,
                                  coral_penalty, exponentiated_step, partners, snapshot,
                                  vrex_penalty)
from baselines.augment import (FWHM_TO_SIGMA, Draws, background_noise, gaussian_blur,
                               jitter_brightness, jitter_contrast, noise_to_depth, resample)
from baselines.checkpoint import WEIGHTS
from baselines.config import bundled_configs, from_dict, load_config
from baselines.data import batch_pattern, epoch_length, stratified_rows
from baselines.finetune import Budget, check
from baselines.predict import predict
from baselines.train import train
from benchmark import registry as R
from benchmark.errors import SommelierError
from benchmark.evaluation.submission import load_submission, prediction_files
from tests.baselines_support import SIZES as FAKE_SIZES
from tests.baselines_support import bench, cache, tiny_raw  # noqa: F401 (fixtures)

FAKE_TRAIN = {survey: n for (survey, split), n in FAKE_SIZES.items() if split == "train"}


def _config(tmp_path, name, params=None, mix=None):
    over = {"algorithm": {"name": name, "params": params or {}}}
    return from_dict(tiny_raw(tmp_path, data={"mix": mix or {"sdss": 0.5, "decals": 0.5}},
                              **over))


def _algorithm(tmp_path, name, **params):
    return build_algorithm(_config(tmp_path, name, params))


def _batch(domains):
    domains = torch.tensor(domains)
    return {"domains": domains, "fractions": torch.rand(len(domains), 3),
            "counts": torch.rand(len(domains), 3) * 10}


# --- ERM and survey-balanced batches ---------------------------------------------------------

def test_erm_minimises_the_mean_loss(tmp_path):
    losses = torch.tensor([1.0, 2.0, 6.0])
    assert _algorithm(tmp_path, "erm").objective(losses, _batch([0, 0, 1]), Position()) == 3.0


def test_balanced_batches_hold_every_survey_equally_in_every_process_slice():
    sizes, shares, batch = [7, 30], [0.5, 0.5], 8
    rows = stratified_rows(sizes, shares, 100, batch, np.random.default_rng(0))
    assert len(rows) == 96  # whole batches: the same 12 steps as 100 galaxies in any mix
    domains = (rows >= sizes[0]).reshape(-1, batch)
    assert np.all(domains.sum(1) == 4)
    assert np.all(domains.reshape(-1, 2, 4).sum(2) == 2)  # each of 2 processes: 2 + 2
    sdss = rows[rows < sizes[0]]
    assert set(sdss) == set(range(7))  # the small survey cycles through all its galaxies
    assert list(batch_pattern([1, 3], 8)) == [1, 0, 1, 1, 1, 0, 1, 1]


def test_balanced_refuses_unequal_shares(tmp_path):
    with pytest.raises(SommelierError, match="equal shares"):
        check_algorithm(_config(tmp_path, "balanced", mix={"sdss": 0.7, "decals": 0.3}), 1)


@pytest.mark.parametrize("name", ["balanced", "coral", "groupdro", "vrex", "mixup"])
def test_algorithms_that_compare_surveys_refuse_one_survey(tmp_path, name):
    with pytest.raises(SommelierError, match="needs at least 2"):
        check(_config(tmp_path, name, mix={"sdss": 1.0}), world=1)


def test_a_batch_too_small_for_every_survey_is_refused(tmp_path):
    config = _config(tmp_path, "coral")  # batch 8: 4 + 4, but 1 + 1 on each of 4 processes
    check(config, world=2)
    with pytest.raises(SommelierError, match="raise training.batch_size"):
        check(config, world=4)


@pytest.mark.parametrize("params, message", [
    ({"alpha": 0.0}, "must be > 0"), ({"alhpa": 1.0}, "unknown key"),
    ({"alpha": "big"}, "expected float")])
def test_wrong_hyperparameters_are_errors(tmp_path, params, message):
    with pytest.raises(SommelierError, match=message):
        check_algorithm(_config(tmp_path, "mixup", params), 1)


def test_an_unknown_algorithm_names_the_choices(tmp_path):
    with pytest.raises(SommelierError, match="coral"):
        check_algorithm(_config(tmp_path, "dann"), 1)


# --- augmentations ---------------------------------------------------------------------------

def _draws(key=(0, 0, 0, 1), part=slice(None), size=4):
    return Draws(key, part, size)


def test_draws_are_keyed_and_a_process_slice_is_a_slice_of_the_whole_batch():
    x = torch.zeros(4, 3, 8, 8)
    whole = [_draws().uniform(0, 1, 3), _draws().normal_like(x)]
    half = [_draws(part=slice(2, 4)).uniform(0, 1, 3), _draws(part=slice(2, 4)).normal_like(x)]
    assert np.array_equal(whole[0][2:], half[0]) and torch.equal(whole[1][2:], half[1])
    assert not np.array_equal(whole[0], _draws(key=(0, 0, 0, 2)).uniform(0, 1, 3))


def test_study_brightness_and_contrast_are_torchvisions():
    x = torch.rand(2, 3, 8, 8) * 0.5
    factor = torch.tensor([0.7, 1.3]).view(2, 1, 1, 1)
    assert torch.allclose(jitter_brightness(x, factor), x * factor)
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    grey = (x * luma).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    low = jitter_contrast(x, torch.full((2, 1, 1, 1), 0.7))  # no clamping needed here
    assert torch.allclose(low, 0.7 * x + 0.3 * grey)
    assert torch.allclose((low * luma).sum(1).mean((1, 2)), grey.flatten())  # grey level kept


def test_a_gaussian_psf_blurs_a_point_to_its_fwhm_and_keeps_its_flux():
    point = torch.zeros(2, 1, 33, 33)
    point[:, :, 16, 16] = 1.0
    fwhm = torch.tensor([0.0, 4.0])
    blurred = gaussian_blur(point, fwhm * FWHM_TO_SIGMA, radius=8)
    assert torch.equal(blurred[0], point[0])  # no PSF: unchanged
    assert blurred[1].sum().item() == pytest.approx(1.0, abs=1e-5)
    profile = blurred[1, 0, 16]
    r = torch.arange(-16, 17, dtype=torch.float32)
    sigma = math.sqrt((profile * r**2).sum() / profile.sum())
    assert sigma * 2 * math.sqrt(2 * math.log(2)) == pytest.approx(4.0, rel=0.02)


def test_coarser_pixels_lose_fine_detail_but_keep_the_light():
    checker = (torch.arange(16)[:, None] + torch.arange(16)[None]) % 2
    x = checker.float().expand(2, 3, 16, 16).clone()
    out = resample(x, np.array([1.0, 0.5]))
    assert torch.equal(out[0], x[0])
    assert out[1].std() < 0.1 * x[1].std()  # the one-pixel pattern is gone
    assert out[1].mean().item() == pytest.approx(0.5, abs=1e-3)


def test_noise_is_added_to_reach_a_depth_and_not_beyond():
    smooth = torch.linspace(0.2, 0.6, 64).expand(2, 3, 64, 64).clone()
    noise = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    target = torch.tensor([0.05, 0.02]).view(2, 1, 1, 1).expand(2, 3, 1, 1)
    deep = noise_to_depth(smooth, target, noise)
    assert torch.allclose(background_noise(deep), target.reshape(2, 3), rtol=0.1)
    already = smooth + 0.08 * noise
    assert torch.equal(noise_to_depth(already, target, noise), already.clamp(0, 1))


@pytest.mark.parametrize("name", ["study-augment", "survey-augment"])
def test_augmentations_are_deterministic_per_key_and_stay_images(tmp_path, name):
    algorithm = _algorithm(tmp_path, name)
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    a = algorithm.images(images, _draws())
    assert torch.equal(a, algorithm.images(images, _draws()))
    assert not torch.equal(a, algorithm.images(images, _draws(key=(0, 0, 0, 2))))
    assert a.shape == images.shape and a.min() >= 0 and a.max() <= 255


def test_survey_augmentation_changes_each_band_on_its_own(tmp_path):
    algorithm = _algorithm(tmp_path, "survey-augment", psf_fwhm=[0, 0], pixel_scale=[1, 1],
                           depth_noise=[0, 0], band_gain=0.5)
    images = torch.full((4, 3, 8, 8), 100, dtype=torch.uint8)
    gains = algorithm.images(images, _draws())[:, :, 0, 0] / 100
    assert torch.all((gains > math.exp(-0.5) - 1e-4) & (gains < math.exp(0.5) + 1e-4))
    assert (gains[:, 0] != gains[:, 1]).all()


# --- objectives ------------------------------------------------------------------------------

def test_coral_penalty_is_zero_for_equal_statistics_and_grows_with_their_difference():
    base = torch.randn(16, 5, generator=torch.Generator().manual_seed(0))
    domains = torch.tensor([0] * 16 + [1] * 16)
    same = coral_penalty(torch.cat([base, base]), domains, 2)
    assert same.item() == pytest.approx(0.0, abs=1e-10)
    grown = [coral_penalty(torch.cat([base, base * s]), domains, 2).item() for s in (1.5, 2, 3)]
    assert 0 < grown[0] < grown[1] < grown[2]
    shifted = coral_penalty(torch.cat([base, base + 1]), domains, 2)  # means only
    assert shifted.item() == pytest.approx(1.0, rel=1e-5)


def test_coral_reads_the_features_the_head_sees(tmp_path):
    algorithm = _algorithm(tmp_path, "coral", penalty=2.0)
    head = torch.nn.Linear(4, 3)
    features = torch.randn(4, 4)
    with algorithm.attached(torch.nn.ModuleDict({"head": head})):
        head(features)
    batch, losses = _batch([0, 1, 0, 1]), torch.ones(4)
    expected = 1 + 2 * coral_penalty(features, batch["domains"], 2)
    assert torch.allclose(algorithm.objective(losses, batch, Position()), expected)


def test_groupdro_weights_move_to_the_worst_survey(tmp_path):
    algorithm = _algorithm(tmp_path, "groupdro", eta=0.5)
    batch, losses = _batch([0, 1, 0, 1]), torch.tensor([0.1, 1.0, 0.3, 2.0])
    weights = []
    for _ in range(5):
        objective = algorithm.objective(losses, batch, Position())
        weights.append(algorithm.q.tolist())
    q = torch.tensor(weights, dtype=torch.float64)
    assert torch.all(q[1:, 1] > q[:-1, 1]) and torch.allclose(q.sum(1), torch.ones(5, dtype=torch.float64))
    assert objective.item() == pytest.approx(float(q[-1] @ torch.tensor([0.2, 1.5]).double()))
    assert torch.allclose(exponentiated_step(torch.tensor([0.5, 0.5]), torch.tensor([0.0, 1.0]),
                                             1.0), torch.tensor([1, math.e]) / (1 + math.e))
    restored = _algorithm(tmp_path, "groupdro")
    restored.load_state(algorithm.state())
    assert torch.equal(restored.q, algorithm.q)


def test_vrex_penalty_is_the_variance_of_the_survey_risks(tmp_path):
    risks = torch.tensor([0.2, 0.9])
    assert vrex_penalty(risks).item() == pytest.approx(np.var([0.2, 0.9]))
    algorithm = _algorithm(tmp_path, "vrex", penalty=10.0, anneal_steps=3)
    batch, losses = _batch([0, 1, 0, 1]), torch.tensor([0.1, 1.0, 0.3, 0.8])
    mean, var = 0.55, np.var([0.2, 0.9])
    early = algorithm.objective(losses, batch, Position(index=2))
    late = algorithm.objective(losses, batch, Position(index=3))
    assert early.item() == pytest.approx(mean + var) and late.item() == pytest.approx(mean + 10 * var)


def test_mixup_targets_are_the_same_convex_combination_as_its_inputs(tmp_path):
    algorithm = _algorithm(tmp_path, "mixup", alpha=1.0)
    batch = _batch([0, 1, 0, 1, 0, 1])
    batch["fractions"][1, 0] = torch.nan  # not asked of galaxy 1
    x = torch.randn(6, 3, 4, 4)
    mixed, fractions, counts = algorithm.mix(x, batch, _draws(size=6))
    for i in range(6):
        others = [j for j in range(6) if batch["domains"][j] != batch["domains"][i]]
        fits = []
        for j in others:  # the partner and weight that make the mixed image
            lam = ((mixed[i] - x[j]) * (x[i] - x[j])).sum() / (x[i] - x[j]).square().sum()
            if torch.allclose(lam * x[i] + (1 - lam) * x[j], mixed[i], atol=1e-5):
                fits.append((j, lam))
        assert fits  # a galaxy of the other survey
        for j, lam in fits:
            assert -1e-6 <= lam <= 1 + 1e-6
            for mixed_target, target in ((fractions, batch["fractions"]),
                                         (counts, batch["counts"])):
                assert torch.allclose(mixed_target[i], lam * target[i] + (1 - lam) * target[j],
                                      atol=1e-5, equal_nan=True)
    assert torch.isnan(fractions[1, 0])  # a question asked of only one stays unasked


def test_partners_come_from_other_domains():
    domains = torch.tensor([0, 0, 1, 1, 1])
    chosen = partners(domains, torch.tensor([0.0, 0.99, 0.0, 0.6, 0.99]))
    assert chosen.tolist() == [2, 4, 0, 1, 1]


# --- weight averaging ------------------------------------------------------------------------

def test_swa_weights_are_the_running_mean_of_the_snapshots(tmp_path):
    algorithm = _algorithm(tmp_path, "swa", start=0.5, every=2)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    snapshots = []
    for index in range(10):
        optimizer.zero_grad()
        model(torch.randn(4, 3)).square().mean().backward()
        optimizer.step()
        algorithm.after_step(optimizer, Position(index=index, total=10))
        if index in (5, 7, 9):  # from step 5 (half of 10), every second step
            snapshots.append(model.weight.detach().clone())
    trained = model.weight.detach().clone()
    with algorithm.evaluated(optimizer):
        assert torch.allclose(model.weight, torch.stack(snapshots).mean(0), atol=1e-6)
    assert torch.equal(model.weight, trained)  # training goes on from the trained weights


def test_swa_skips_weights_that_never_trained():
    used, unused = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    optimizer = torch.optim.AdamW([used, unused])
    used.sum().backward()
    optimizer.step()
    snapshot(optimizer)
    assert "swa_average" in optimizer.state[used] and not optimizer.state[unused]


# --- compute matching ------------------------------------------------------------------------

SIZES = {"sdss": 135_000, "decals": 75_000}  # roughly the benchmark's training splits


def _planned(name):
    config = load_config(name)
    return Budget.of(config, epoch_length(config.data, [SIZES[s] for s in config.data.mix]))


@pytest.mark.parametrize("sdss, mixed", [("sdss-only", "mixed"), ("tiny-cpu-sdss",
                                                                    "tiny-cpu-mixed")])
def test_mixed_and_sdss_only_plan_the_same_steps(sdss, mixed):
    assert _planned(sdss) == _planned(mixed)
    assert _planned(sdss).steps == ((31_250, 62_500) if sdss == "sdss-only" else (50, 1000))

    def training(name):  # everything but the names and the surveys
        raw = load_config(name).to_dict()
        del raw["name"], raw["entry"], raw["data"]["mix"]
        return raw

    assert training(sdss) == training(mixed)


def test_every_reference_config_fixes_its_epoch():
    """All but the study's reproductions, whose whole epochs are the confound they reproduce."""
    trained = [load_config(n) for n in bundled_configs() if not n.startswith("study-")]
    assert all(c.data.epoch_size for c in trained if c.kind == "dinov2")


# --- the tiny configs train and predict -------------------------------------------------------

TINY = [n for n in bundled_configs() if n.startswith("tiny-cpu-") and n.removeprefix(
    "tiny-cpu-") in ALGORITHMS]


def test_every_algorithm_has_a_tiny_config():
    assert {n.removeprefix("tiny-cpu-") for n in TINY} == set(ALGORITHMS) - {"erm"}


def _one_epoch(cache_dir, name):
    bundled = load_config(name)
    return from_dict(tiny_raw(cache_dir, algorithm=bundled.to_dict()["algorithm"],
                              data={"mix": bundled.data.mix},
                              stages=[{"name": "all", "backbone": "full", "epochs": 1,
                                       "head_lr": 1e-2, "backbone_lr": 1e-3}]))


@pytest.mark.parametrize("name", TINY)
def test_a_tiny_config_trains_an_epoch_and_predicts_an_entry(tmp_path, bench, cache, name):
    config = _one_epoch(cache, name)
    checkpoint = train(config, str(bench), seed=0, out=tmp_path / "run")
    (epoch,) = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").open()]
    galaxies = sum(FAKE_TRAIN[s] for s in config.data.mix)
    assert epoch["steps"] == Budget.of(config, galaxies).steps[0]
    assert math.isfinite(epoch["train_loss"]) and math.isfinite(epoch["val_loss"])
    (written,) = predict(checkpoint, str(bench), ["ukidss:test"], tmp_path / "entry")
    assert len(prediction_files(load_submission(tmp_path / "entry"))) == 1  # the evaluator's check
    values = pd.read_parquet(written)[list(R.BENCHMARK_FEATURES)].to_numpy()
    assert np.all((values >= 0) & (values <= 1))


def test_same_seed_same_weights_with_random_views_and_state(tmp_path, bench, cache):
    for name in ("tiny-cpu-survey-augment", "tiny-cpu-groupdro"):
        config = _one_epoch(cache, name)
        a, b = (load_file(str(train(config, str(bench), seed=5, out=tmp_path / name / run)
                              / WEIGHTS)) for run in ("a", "b"))
        assert all(torch.equal(a[k], b[k]) for k in a)


class Killed(Exception):
    """Stands in for SIGKILL right after a checkpoint was written."""


@pytest.mark.parametrize("name, params", [("swa", {"start": 0.25, "every": 2}),
                                          ("groupdro", {"eta": 0.1})])
def test_a_killed_run_resumes_the_algorithms_state(tmp_path, bench, cache, monkeypatch, name,
                                                    params):
    """SWA's running means (in the optimizer's state) and GroupDRO's weights (in the trainer's
    progress) come back from `last/`: the resumed run ends where the whole one does."""
    config = from_dict(tiny_raw(cache, algorithm={"name": name, "params": params},
                                data={"mix": {"sdss": 0.5, "decals": 0.5}}))
    whole = load_file(str(train(config, str(bench), seed=1, out=tmp_path / "whole") / WEIGHTS))
    real_save, saved_last = finetune.save_model, []

    def save_then_die(folder, *args, **kwargs):
        real_save(folder, *args, **kwargs)
        if folder.name == "last":
            saved_last.append(folder)
            if len(saved_last) == 2:  # after the first epoch of the second stage
                raise Killed

    monkeypatch.setattr(finetune, "save_model", save_then_die)
    with pytest.raises(Killed):
        train(config, str(bench), seed=1, out=tmp_path / "killed")
    monkeypatch.undo()
    resumed = load_file(str(train(config, str(bench), seed=1, out=tmp_path / "killed") / WEIGHTS))
    assert all(torch.equal(resumed[k], whole[k]) for k in whole)
    history = [json.loads(line) for line in (tmp_path / "whole" / "history.jsonl").open()]
    assert ("algorithm" in history[-1]) == (name == "groupdro")  # q is logged every epoch
