"""Outputs fit the decision tree: per question of every feature set, the targets and each
output type agree on how the question's fractions may sum (1 for a complete question, at most
1 for one whose set leaves answers out), and each output can reproduce the targets exactly."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
import torch

from baselines.checkpoint import read_meta, read_tensors, save_checkpoint
from baselines.config import LossConfig
from baselines.data import load_split_data
from baselines.heads import OUTPUTS
from baselines.layout import Layout
from baselines.losses import LOSSES, LossContext
from baselines.model import load_model, new_model, save_model
from benchmark import registry as R
from benchmark.errors import SommelierError
from tests.baselines_support import bench, tiny_config  # noqa: F401 (fixture)

EPS = 1e-6


@pytest.fixture(scope="module")
def targets(bench) -> dict[str, torch.Tensor]:  # noqa: F811
    """Training targets of every feature set: the fake SDSS train split's fractions."""
    return {name: torch.tensor(load_split_data(str(bench), "sdss", "train", features,
                                               labelled=True, image_size=None).labels.fractions)
            for name, features in R.FEATURE_SETS.items()}


def _softmax_logits(layout: Layout, y: torch.Tensor) -> torch.Tensor:
    """Logits whose softmax is `y`: log fractions, the 'other' slot holding what is left."""
    parts = []
    for s, slots, complete in zip(layout.slices, layout.slots, layout.complete):
        part = [y[:, s]] + ([] if complete else [1 - y[:, s].sum(1, keepdim=True)])
        parts.append(torch.cat(part, 1).clamp_min(EPS).log())
    return torch.cat(parts, 1)


INVERSES: dict[str, Callable[[Layout, torch.Tensor], torch.Tensor]] = {
    "softmax": _softmax_logits,
    "sigmoid": lambda layout, y: torch.logit(y.clamp(EPS, 1 - EPS)),
    "clip": lambda layout, y: y,
}


def _asked(y: torch.Tensor, s: slice) -> torch.Tensor:
    return y[~torch.isnan(y[:, s.start])][:, s]


@pytest.mark.parametrize("features", list(R.FEATURE_SETS))
def test_targets_sum_to_one_only_where_the_question_is_complete(targets, features):
    layout = Layout(R.FEATURE_SETS[features])
    for question, s, complete in zip(layout.questions, layout.slices, layout.complete):
        sums = _asked(targets[features], s).sum(1)
        if complete:
            assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5), question
        else:
            assert sums.max() <= 1 + 1e-5 and sums.min() < 0.99, question
    assert all(layout.complete) == (features != "study26")


@pytest.mark.parametrize("features", list(R.FEATURE_SETS))
@pytest.mark.parametrize("output", ["softmax", "clip"])
def test_outputs_sum_as_their_question_allows(features, output):
    layout = Layout(R.FEATURE_SETS[features])
    logits = torch.randn(256, OUTPUTS[output].width(layout), generator=torch.Generator().manual_seed(0),
                         dtype=torch.float64) * 3
    sums = layout.question_sums(OUTPUTS[output](logits, layout))
    for question, column, complete in zip(layout.questions, sums.T, layout.complete):
        if complete:
            assert torch.allclose(column, torch.ones_like(column)), question
        else:
            assert column.max() <= 1 + 1e-9 and column.min() < 0.9, question


@pytest.mark.parametrize("features", list(R.FEATURE_SETS))
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_every_output_can_represent_the_targets(targets, features, output):
    layout = Layout(R.FEATURE_SETS[features])
    y = targets[features].double()
    for question, s in zip(layout.questions, layout.slices):
        asked = ~torch.isnan(y[:, s.start])
        want = torch.nan_to_num(y[asked])
        logits = INVERSES[output](layout, want)
        assert logits.shape[1] == OUTPUTS[output].width(layout)
        got = OUTPUTS[output](logits, layout)[:, s]
        assert torch.allclose(got, want[:, s], atol=1e-4), question


def test_mse_training_reaches_targets_that_sum_below_one(targets):
    """The softmax head's 'other' logit learns what the listed answers leave out (with a
    softmax over the listed answers alone, bulge size would be stuck at a sum of 1)."""
    layout = Layout(R.FEATURE_SETS["study26"])
    y = targets["study26"][:64]
    logits = torch.zeros(len(y), layout.width, requires_grad=True)
    ctx = LossContext(layout, OUTPUTS["softmax"], LossConfig("mse"))
    optimiser = torch.optim.Adam([logits], lr=0.2)
    for _ in range(150):
        optimiser.zero_grad()
        LOSSES["mse"].fn(logits, y, torch.zeros_like(y), ctx).mean().backward()
        optimiser.step()
    bulge = layout.slices[layout.questions.index("bulge_size")]
    got, want = layout.softmax(logits.detach())[:, bulge], y[:, bulge]
    asked = ~torch.isnan(want[:, 0])
    assert want[asked].sum(1).mean() < 0.9
    assert got[asked].sum(1).mean() == pytest.approx(want[asked].sum(1).mean().item(), abs=0.02)


def test_the_head_has_one_logit_per_feature_and_per_incomplete_question(tmp_path):
    model = new_model(tiny_config(tmp_path, features="study26"), seed=0)
    assert model.head[-1].out_features == len(R.FEATURE_SETS["study26"]) + 2  # bulge, arms
    sigmoid = new_model(tiny_config(tmp_path, features="study26", model={"output": "sigmoid"}),
                        seed=0)
    assert sigmoid.head[-1].out_features == len(R.FEATURE_SETS["study26"])


def test_a_checkpoint_with_a_head_of_the_old_width_asks_to_be_retrained(tmp_path):
    model = new_model(tiny_config(tmp_path, features="study26"), seed=0)
    folder = save_model(tmp_path / "ckpt", model, {"kind": "dinov2"})
    tensors = read_tensors(folder)
    last = f"head.{len(model.head) - 1}"
    tensors[f"{last}.weight"] = tensors[f"{last}.weight"][:26]
    tensors[f"{last}.bias"] = tensors[f"{last}.bias"][:26]
    save_checkpoint(tmp_path / "old", tensors, {k: v for k, v in read_meta(folder).items()
                                                if k != "format"})
    with pytest.raises(SommelierError, match="retrained"):
        load_model(tmp_path / "old")


def test_clip_keeps_an_incomplete_question_below_one_and_renormalises_complete_ones():
    layout = Layout(R.FEATURE_SETS["study26"])
    values = torch.full((1, len(layout.features)), 0.2, dtype=torch.float64)
    out = layout.question_sums(layout.renormalise(values))[0].numpy()
    expected = [1.0 if complete else min(0.2 * (s.stop - s.start), 1.0)
                for s, complete in zip(layout.slices, layout.complete)]
    np.testing.assert_allclose(out, expected)
