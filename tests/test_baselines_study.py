"""The study configs' two settings from the original study: zero-filled targets (losses tests)
and keeping the epoch of the best validation correlation (here)."""

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import baselines.finetune as finetune
from baselines.checkpoint import WEIGHTS
from baselines.config import TrainingConfig, load_config
from baselines.losses import targets
from baselines.selection import improves, moments, pearson
from baselines.train import train
from benchmark.errors import SommelierError
from tests.baselines_support import bench, cache, tiny_config  # noqa: F401 (fixtures)


@pytest.mark.parametrize("name", ["study-sdss-only", "study-mixed"])
def test_the_study_configs_zero_fill_and_select_on_correlation(name):
    config = load_config(name)
    assert config.loss.missing == "zero" and config.training.select == "correlation"
    assert config.training.patience == 3


def test_the_defaults_keep_masking_and_selecting_on_the_loss():
    assert TrainingConfig().select == "loss"
    config = load_config("sdss-only")
    assert config.loss.missing == "mask" and config.training.select == "loss"


def _best_epoch(select, scores):
    best, kept = None, None
    for epoch, value in enumerate(scores, 1):
        if improves(select, value, best):
            best, kept = value, epoch
    return kept


def test_selection_keeps_the_highest_correlation_or_the_lowest_loss():
    assert _best_epoch("correlation", [0.2, 0.5, 0.4, 0.6, 0.1]) == 4
    assert _best_epoch("loss", [0.2, 0.5, 0.4, 0.6, 0.1]) == 5
    assert _best_epoch("correlation", [math.nan, 0.1, math.nan, 0.05]) == 2
    assert not improves("correlation", 0.5, 0.5)  # ties keep the earlier epoch


@pytest.mark.parametrize("missing", ["mask", "zero"])
def test_the_validation_correlation_is_the_flattened_pearson_r(missing):
    rng = np.random.default_rng(0)
    truth = rng.random((20, 6))
    truth[rng.random(truth.shape) < 0.3] = np.nan
    predicted = rng.random((20, 6))
    filled, kept = targets(torch.tensor(truth), missing)
    r = pearson(moments(torch.tensor(predicted), filled, kept).sum(0))
    y = np.nan_to_num(truth) if missing == "zero" else truth
    ok = ~np.isnan(y)
    assert r == pytest.approx(np.corrcoef(predicted[ok], y[ok])[0, 1], rel=1e-9)
    assert math.isnan(pearson(moments(torch.ones(3, 2), torch.rand(3, 2),
                                      torch.ones(3, 2, dtype=torch.bool)).sum(0)))


def test_unknown_choices_and_zero_filled_vote_losses_are_refused(cache):
    with pytest.raises(SommelierError, match="training.select"):
        finetune.check(tiny_config(cache, training={"select": "accuracy"}), 1)
    with pytest.raises(SommelierError, match="loss.missing"):
        finetune.check(tiny_config(cache, loss={"missing": "drop"}), 1)
    with pytest.raises(SommelierError, match="vote counts"):
        finetune.check(tiny_config(cache, loss={"name": "multinomial", "missing": "zero"}), 1)


# validation scores per epoch: the correlation peaks at epoch 2, the loss keeps falling
SCORES = [{"loss": 1.0, "correlation": 0.2}, {"loss": 0.9, "correlation": 0.5},
          {"loss": 0.8, "correlation": 0.4}, {"loss": 0.7, "correlation": 0.3},
          {"loss": 0.6, "correlation": 0.9}]


@pytest.mark.parametrize("select, saved, epochs", [("correlation", [1, 2], 4),
                                                   ("loss", [1, 2, 3, 4, 5], 5)])
def test_the_trainer_keeps_the_epoch_its_selection_prefers(tmp_path, bench, cache, monkeypatch,
                                                           select, saved, epochs):
    config = tiny_config(cache, stages=[{"name": "head", "backbone": "frozen", "epochs": 5,
                                         "head_lr": 1e-2}],
                         training={"select": select, "patience": 2})
    scores = iter(SCORES)
    monkeypatch.setattr(finetune.Trainer, "validate", lambda self, model: dict(next(scores)))
    real_save, snapshots = finetune.save_model, []

    def save(folder, model, *args, **kwargs):
        if folder.parent.name == "stages":
            snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        real_save(folder, model, *args, **kwargs)

    monkeypatch.setattr(finetune, "save_model", save)
    best = train(config, str(bench), seed=0, out=tmp_path / "run")
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").open()]
    assert len(history) == epochs  # correlation: two epochs without a better r (patience 2)
    assert len(snapshots) == len(saved)
    assert history[-1][f"best_val_{select}"] == SCORES[saved[-1] - 1][select]
    kept = load_file(str(best / WEIGHTS))
    assert all(torch.equal(kept[k], snapshots[-1][k].cpu()) for k in kept)


def test_a_study_style_run_validates_on_a_finite_correlation_and_repeats_exactly(tmp_path, bench,
                                                                                cache):
    config = tiny_config(cache, data={"mix": {"sdss": 0.5, "decals": 0.5}},
                         loss={"missing": "zero"}, training={"select": "correlation"},
                         stages=[{"name": "head", "backbone": "frozen", "epochs": 2,
                                  "head_lr": 1e-2}])
    runs = [train(config, str(bench), seed=0, out=tmp_path / name) for name in ("a", "b")]
    history = [[json.loads(line) for line in (tmp_path / name / "history.jsonl").open()]
               for name in ("a", "b")]
    assert all(-1 <= line["val_correlation"] <= 1 for line in history[0])
    assert [h["val_correlation"] for h in history[0]] == [h["val_correlation"] for h in history[1]]
    a, b = (load_file(str(run / WEIGHTS)) for run in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)
