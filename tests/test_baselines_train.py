"""Training: it learns, the frozen stage touches only the head, a killed run resumes to the
same result, and two processes (DDP, gloo on CPU) train exactly what one process trains."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import baselines.finetune as finetune
from baselines.checkpoint import WEIGHTS
from baselines.data import Pool, load_training_data
from baselines.distributed import single
from baselines.inference import over_pool
from baselines.losses import LOSSES, LossContext
from baselines.model import load_model, new_model
from baselines.train import train
from benchmark.errors import SommelierError
from tests.baselines_support import (  # noqa: F401 (bench, cache: fixtures)
    bench, cache, tiny_config, tiny_raw, write_config)


def _weights(checkpoint):
    return load_file(str(checkpoint / WEIGHTS))


def _train_loss(model, config, bench):
    """Mean training loss of a model over all training galaxies (no augmentation)."""
    data = load_training_data(config, str(bench), 0, config.model.image_size)
    ctx = LossContext(model.layout, model.output, config.loss)
    model.eval()
    losses = over_pool(
        lambda b: LOSSES[config.loss.name].fn(model(model.prepare(b["images"])),
                                               b["fractions"], b["counts"], ctx),
        data.train, 16, single())
    return losses.mean().item()


# the fakes' votes are random: most of a likelihood is noise no model can remove (and study26's
# 'other' logits start an untrained model closer to its targets, so mse has less left to gain)
@pytest.mark.parametrize("loss, ratio", [("mse", 0.92), ("dirichlet-multinomial", 0.99)])
def test_a_few_cpu_steps_reduce_the_loss(tmp_path, bench, cache, loss, ratio):
    config = tiny_config(cache, loss={"name": loss}, data={"augment": {"rotate": False}},
                         stages=[{"name": "all", "backbone": "full", "epochs": 3,
                                  "head_lr": 1e-2, "backbone_lr": 1e-3}],
                         training={"warmup": 0.0})
    checkpoint = train(config, str(bench), seed=0, out=tmp_path / "run")
    before = _train_loss(new_model(config, seed=0), config, bench)
    after = _train_loss(load_model(checkpoint)[0], config, bench)
    assert after < ratio * before


def test_the_frozen_stage_changes_only_the_head(tmp_path, bench, cache):
    config = tiny_config(cache, stages=[{"name": "head", "backbone": "frozen", "epochs": 2,
                                         "head_lr": 1e-2}])
    trained = _weights(train(config, str(bench), seed=0, out=tmp_path / "run"))
    initial = new_model(config, seed=0).state_dict()
    backbone = [k for k in initial if k.startswith("backbone.")]
    head = [k for k in initial if k.startswith("head.")]
    assert backbone and head
    assert all(torch.equal(initial[k], trained[k]) for k in backbone)
    assert not all(torch.equal(initial[k], trained[k]) for k in head)


class Killed(Exception):
    """Stands in for SIGKILL right after a checkpoint was written."""


def test_a_killed_run_resumes_to_the_same_model(tmp_path, bench, cache, monkeypatch):
    config = tiny_config(cache, data={"mix": {"sdss": 0.5, "decals": 0.5}})
    reference = _weights(train(config, str(bench), seed=1, out=tmp_path / "whole"))

    real_save, saved_last = finetune.save_model, []

    def save_then_die(folder, *args, **kwargs):
        real_save(folder, *args, **kwargs)
        if folder.name == "last":
            saved_last.append(folder)
            if len(saved_last) == 2:  # during the second stage
                raise Killed

    monkeypatch.setattr(finetune, "save_model", save_then_die)
    with pytest.raises(Killed):
        train(config, str(bench), seed=1, out=tmp_path / "killed")
    monkeypatch.undo()
    resumed = _weights(train(config, str(bench), seed=1, out=tmp_path / "killed"))

    assert resumed.keys() == reference.keys()
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "killed" / "history.jsonl").open()]
    assert epochs == [1, 1, 2]  # nothing trained twice
    record = json.loads((tmp_path / "killed" / "run.json").read_text())
    assert record["seed"] == 1 and record["code"] and record["data"]["splits"]


def test_a_different_run_cannot_resume_into_the_same_folder(tmp_path, bench, cache):
    config = tiny_config(cache, stages=[{"name": "head", "backbone": "frozen", "epochs": 1}])
    train(config, str(bench), seed=0, out=tmp_path / "run")
    with pytest.raises(SommelierError, match="seed"):
        train(config, str(bench), seed=2, out=tmp_path / "run")


def test_two_processes_train_what_one_process_trains(tmp_path, bench, cache):
    raw = tiny_raw(cache, data={"mix": {"sdss": 0.5, "decals": 0.5}})
    path = write_config(tmp_path / "ddp.yaml", raw)
    one = train(path, str(bench), seed=3, out=tmp_path / "one")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", "-m", "benchmark.cli", "train", "--config", str(path),
               "--data", str(bench), "--seed", "3", "--out", str(tmp_path / "two")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = _weights(one), _weights(tmp_path / "two" / "best")
    assert all(torch.allclose(a[k].float(), b[k].float(), rtol=1e-4, atol=1e-5) for k in a)
    history = [[json.loads(line)["val_loss"] for line in (tmp_path / run / "history.jsonl").open()]
               for run in ("one", "two")]
    assert np.allclose(history[0], history[1], rtol=1e-5)
