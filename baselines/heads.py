"""What sits on top of the pooled backbone features: the MLP head and the output activation.

Each is a small registry so a config picks one by name (poolings belong to a backbone family:
`baselines.backbone`):
- output: `softmax` per question (a complete question's fractions sum to 1; an incomplete
  question gets an extra 'other' logit, dropped from the fractions, so they sum to at most 1),
  `sigmoid` per answer (the original study's independent outputs: no sum is enforced) or `clip`
  (clip to [0, 1], then renormalise each complete question and cap each incomplete one at 1:
  for the ridge probe, whose outputs are already fractions up to small overshoots).
An output says how many logits it needs, so the head is built to fit it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from .config import HeadConfig
from .layout import Layout
from .lookup import lookup


@dataclass(frozen=True)
class Output:
    fractions: Callable[[torch.Tensor, Layout], torch.Tensor]  # logits -> (N, K) fractions
    width: Callable[[Layout], int]  # logits the head must produce

    def __call__(self, logits: torch.Tensor, layout: Layout) -> torch.Tensor:
        return self.fractions(logits, layout)


def _per_feature(layout: Layout) -> int:
    return len(layout.features)


OUTPUTS: dict[str, Output] = {
    "softmax": Output(lambda logits, layout: layout.softmax(logits), lambda layout: layout.width),
    "sigmoid": Output(lambda logits, layout: torch.sigmoid(logits), _per_feature),
    "clip": Output(lambda logits, layout: layout.renormalise(logits.clamp(0, 1)), _per_feature),
}

NORMS: dict[str, Callable[[int], nn.Module]] = {
    "layer": nn.LayerNorm,
    "batch": nn.BatchNorm1d,
    "none": lambda width: nn.Identity(),
}


def build_head(config: HeadConfig, width: int, outputs: int) -> nn.Sequential:
    """Linear-norm-ReLU-dropout blocks through `config.hidden`, then a linear layer to logits.

    With no hidden layers it is a single linear map (the linear probe's head).
    """
    norm = lookup(NORMS, config.norm, "head norm")
    layers: list[nn.Module] = []
    for hidden in config.hidden:
        layers += [nn.Linear(width, hidden), norm(hidden), nn.ReLU(),
                   nn.Dropout(config.dropout)]
        width = hidden
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)
