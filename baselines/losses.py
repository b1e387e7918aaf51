"""Training losses, one value per galaxy; questions that were not asked contribute nothing.

- `mse`: squared error of the vote fractions (the original study's objective), over the
  answers of asked questions, divided by the number of outputs.
- `multinomial`: negative log-likelihood of the vote counts given the predicted fractions.
- `dirichlet-multinomial`: the same with Dirichlet noise on the fractions (mean = predicted
  fractions, precision `concentration`), which models volunteers' disagreement as Galaxy Zoo's
  own models (Walmsley et al. 2022) do. Constant terms (multinomial coefficients) are left out.
An unasked question has no fraction (NaN) and zero counts: the vote losses are exactly 0 for it.
`missing` (`LossConfig.missing`, `MISSING`) says what `mse` does with those NaNs: `mask` leaves
them out of the loss; `zero` reads them as 0 and trains every output, as the original study did
(which rewards predicting 0 for questions a galaxy's volunteers were never asked).

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


def _mask(fractions: torch.Tensor) -> torch.Tensor:
    """Only asked answers count: an unasked question says nothing about the galaxy."""
    return ~torch.isnan(fractions)


def _zero(fractions: torch.Tensor) -> torch.Tensor:
    """Every output counts, unasked ones with target 0 (the original study's labels)."""
    return torch.ones_like(fractions, dtype=torch.bool)


MISSING: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"mask": _mask, "zero": _zero}
"""`loss.missing` -> which target entries a fraction loss (and validation correlation) keeps."""


def targets(fractions: torch.Tensor, missing: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The fractions with NaN read as 0, and the entries that count under `missing`."""
    return torch.nan_to_num(fractions), MISSING[missing](fractions)


def mse(logits: torch.Tensor, fractions: torch.Tensor, counts: torch.Tensor,
        ctx: LossContext) -> torch.Tensor:
    filled, kept = targets(fractions, ctx.config.missing)
    error = ctx.output(logits, ctx.layout) - filled
    return torch.where(kept, error.square(), 0).sum(1) / fractions.shape[1]


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
    reads_fractions: bool = False  # only a loss of fractions can zero-fill (`missing: zero`)


LOSSES: dict[str, Loss] = {
    "mse": Loss(mse, needs_softmax=False, reads_fractions=True),
    "multinomial": Loss(multinomial, needs_softmax=True),
    "dirichlet-multinomial": Loss(dirichlet_multinomial, needs_softmax=True),
}
