"""Losses: unasked questions contribute nothing; the vote likelihoods are the textbook ones."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import gammaln
from scipy.stats import dirichlet_multinomial, multinomial

from baselines.config import LossConfig
from baselines.heads import OUTPUTS
from baselines.layout import Layout
from baselines.losses import LOSSES, LossContext
from benchmark import registry as R
from benchmark.errors import SommelierError

LAYOUT = Layout(R.BENCHMARK_FEATURES)  # questions: 3 + 2 + 2 + 2 answers


def _ctx(name="mse", concentration=20.0):
    return LossContext(LAYOUT, OUTPUTS["softmax"], LossConfig(name, concentration))


def _labels():
    counts = torch.tensor([[30.0, 8, 2, 1, 7, 3, 4, 0, 7],
                           [40.0, 0, 0, 0, 0, 0, 0, 0, 0]])  # galaxy 2: only question 1 asked
    totals = LAYOUT.question_sums(counts)
    per_answer = torch.cat([totals[:, [i]].expand(-1, s.stop - s.start)
                            for i, s in enumerate(LAYOUT.slices)], 1)
    fractions = torch.where(per_answer > 0, counts / per_answer.clamp_min(1), torch.nan)
    return fractions, counts


@pytest.mark.parametrize("name", list(LOSSES))
def test_unasked_questions_get_no_gradient(name):
    fractions, counts = _labels()
    logits = torch.randn(2, 9, requires_grad=True)
    LOSSES[name].fn(logits, fractions, counts, _ctx(name)).sum().backward()
    assert torch.all(logits.grad[1, 3:] == 0)  # galaxy 2 was asked nothing past question 1
    assert torch.any(logits.grad[1, :3] != 0) and torch.any(logits.grad[0] != 0)


def test_mse_is_the_mean_squared_error_over_asked_answers():
    fractions, counts = _labels()
    logits = torch.randn(2, 9)
    predicted = LAYOUT.softmax(logits)
    loss = LOSSES["mse"].fn(logits, fractions, counts, _ctx())
    expected = ((predicted[1, :3] - fractions[1, :3]) ** 2).sum() / 9
    assert loss[1].item() == pytest.approx(expected.item(), rel=1e-5)


def _coefficient(k):
    """log of the multinomial coefficient n! / prod k!, which the losses leave out."""
    return gammaln(k.sum() + 1) - gammaln(k + 1).sum()


def test_vote_likelihoods_match_scipy():
    fractions, counts = _labels()
    logits = torch.randn(2, 9, dtype=torch.float64)
    p = LAYOUT.softmax(logits)[0].numpy()
    k = counts[0].numpy()
    mult, dm = 0.0, 0.0
    for s in LAYOUT.slices:
        ks, ps = k[s], p[s]
        mult += multinomial.logpmf(ks, ks.sum(), ps) - _coefficient(ks)
        dm += dirichlet_multinomial.logpmf(ks, 20.0 * ps, ks.sum()) - _coefficient(ks)
    got = {n: LOSSES[n].fn(logits, fractions.double(), counts.double(), _ctx(n))[0].item()
           for n in ("multinomial", "dirichlet-multinomial")}
    assert got["multinomial"] == pytest.approx(-mult, rel=1e-6)
    assert got["dirichlet-multinomial"] == pytest.approx(-dm, rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=9, max_size=9))
def test_softmax_fractions_of_each_question_sum_to_one(values):
    sums = LAYOUT.question_sums(LAYOUT.softmax(torch.tensor([values], dtype=torch.float64)))
    assert torch.allclose(sums, torch.ones_like(sums))


def test_feature_sets_must_keep_questions_together():
    with pytest.raises(SommelierError, match="together"):
        Layout(("smooth", "bar_yes", "featured_or_disk"))
    assert len(Layout(R.FEATURE_SETS["study26"]).questions) == 9


def _mse(fractions, logits, missing):
    ctx = LossContext(LAYOUT, OUTPUTS["softmax"], LossConfig("mse", missing=missing))
    return LOSSES["mse"].fn(logits, fractions, torch.zeros_like(fractions), ctx)


def test_zero_filled_mse_is_the_loss_on_targets_with_nan_as_zero_and_every_weight_one():
    fractions, _ = _labels()
    logits = torch.randn(2, 9)
    expected = ((LAYOUT.softmax(logits) - torch.nan_to_num(fractions, nan=0.0)) ** 2).mean(1)
    assert torch.allclose(_mse(fractions, logits, "zero"), expected, rtol=1e-6)
    # the zero-filled loss of NaN targets is the masked loss of the same targets filled with 0
    filled = torch.nan_to_num(fractions, nan=0.0)
    assert torch.equal(_mse(fractions, logits, "zero"), _mse(filled, logits, "mask"))


def test_masked_mse_is_unchanged_by_the_missing_option():
    fractions, counts = _labels()
    logits = torch.randn(2, 9)
    default = LOSSES["mse"].fn(logits, fractions, counts, _ctx())
    assert torch.equal(_mse(fractions, logits, "mask"), default)
    asked = ~torch.isnan(fractions)
    error = torch.where(asked, LAYOUT.softmax(logits) - torch.nan_to_num(fractions), 0)
    assert torch.equal(default, error.square().sum(1) / 9)
    assert LossConfig().missing == "mask"
