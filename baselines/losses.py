"""Training losses, one value per galaxy; questions that were not asked contribute nothing.

- `mse`: squared error of the vote fractions (the original study's objective), over the
  answers of asked questions, divided by the number of outputs.
- `multinomial`: negative log-likelihood of the vote counts given the predicted fractions.
- `dirichlet-multinomial`: the same with Dirichlet noise on the fractions (mean = predicted
  fractions, precision `concentration`), which models volunteers' disagreement as Galaxy Zoo's
  own models (Walmsley et al. 2022) do. Constant terms (multinomial coefficients) are left out.
An unasked question has no fraction (NaN) and zero counts: the vote losses are exactly 0 for it.

Per-galaxy values averaged over a batch make a data-parallel step (mean over processes of
equal-sized local batches) identical to one process on the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .config import LossConfig
from .layout import Layout

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, "LossContext"], torch.Tensor]


@dataclass(frozen=True)
class LossContext:
    layout: Layout
    output: Callable[[torch.Tensor, Layout], torch.Tensor]  # logits -> fractions
    config: LossConfig


def mse(logits: torch.Tensor, fractions: torch.Tensor, counts: torch.Tensor,
        ctx: LossContext) -> torch.Tensor:
    asked = ~torch.isnan(fractions)
    error = ctx.output(logits, ctx.layout) - torch.nan_to_num(fractions)
    return torch.where(asked, error.square(), 0).sum(1) / fractions.shape[1]


def multinomial(logits: torch.Tensor, fractions: torch.Tensor, counts: torch.Tensor,
                ctx: LossContext) -> torch.Tensor:
    return -(counts * ctx.layout.log_softmax(logits)).sum(1)


def dirichlet_multinomial(logits: torch.Tensor, fractions: torch.Tensor, counts: torch.Tensor,
                          ctx: LossContext) -> torch.Tensor:
    precision = ctx.config.concentration
    alpha = precision * ctx.layout.softmax(logits)
    votes = ctx.layout.question_sums(counts)
    per_answer = torch.lgamma(counts + alpha) - torch.lgamma(alpha)
    per_question = (ctx.layout.question_sums(per_answer) + torch.lgamma(torch.tensor(precision))
                    - torch.lgamma(votes + precision))
    return -per_question.sum(1)


@dataclass(frozen=True)
class Loss:
    fn: LossFn
    needs_softmax: bool  # a likelihood of counts needs each question's fractions to sum to 1


LOSSES: dict[str, Loss] = {
    "mse": Loss(mse, needs_softmax=False),
    "multinomial": Loss(multinomial, needs_softmax=True),
    "dirichlet-multinomial": Loss(dirichlet_multinomial, needs_softmax=True),
}
