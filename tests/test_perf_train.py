"""CPU throughput of one full fine-tuning step of the tiny quick-start config
(`tiny-cpu-sdss`: batch 32 at 64 px, normalise + augment + forward + backward + AdamW)."""

import numpy as np
import torch

from baselines.config import load_config
from baselines.finetune import BACKBONE_MODES, Step
from baselines.images import Views
from baselines.losses import LOSSES
from baselines.model import new_model
from benchmark import registry as R
from tests.fakes import fake_labels


def test_tiny_config_train_step(benchmark):
    config = load_config("tiny-cpu-sdss")
    stage = config.stages[-1]
    model = new_model(config, seed=0)
    groups = BACKBONE_MODES[stage.backbone].prepare(model, stage)
    optimizer = torch.optim.AdamW(groups, weight_decay=config.training.weight_decay)
    step = Step(model.train(), model, optimizer, LOSSES[config.loss.name], config)
    n, size = config.training.batch_size, config.model.image_size
    labels = fake_labels(n, seed=0)
    views = Views.draw(n, np.random.default_rng(0), rotate=True, flip=True)
    batch = {
        "images": torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8),
        "fractions": torch.tensor(labels[[R.fraction_column(f) for f in config.feature_names]]
                                  .to_numpy("float32")),
        "counts": torch.tensor(labels[[R.count_column(f) for f in config.feature_names]]
                               .to_numpy("float32")),
        "angles": torch.from_numpy(views.angles), "flips": torch.from_numpy(views.flips)}
    benchmark.group = "train step"
    loss = benchmark(step, batch)
    if benchmark.stats:  # absent under --benchmark-disable
        benchmark.extra_info["images_per_s"] = n / benchmark.stats.stats.median
    assert torch.isfinite(loss)
