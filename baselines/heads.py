"""What sits on top of the backbone: pooling of its tokens, the MLP head, the output activation.

Each is a small registry so a config picks one by name:
- pooling: `cls` (DINOv2's layer-normed CLS token) or `cls+mean` (CLS and mean patch token,
  concatenated, as DINOv2's own linear evaluation does);
- output: `softmax` per question (fractions of one question sum to 1), `sigmoid` per answer
  (the original study's independent outputs) or `clip` (clip to [0, 1], then renormalise each
  question: for the ridge probe, whose outputs are already fractions up to small overshoots).
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
class Pooling:
    width: int  # pooled size in units of the backbone's hidden size
    pool: Callable[[object], torch.Tensor]  # backbone output -> (N, width * hidden)


POOLINGS: dict[str, Pooling] = {
    "cls": Pooling(1, lambda out: out.pooler_output),
    "cls+mean": Pooling(2, lambda out: torch.cat(
        [out.pooler_output, out.last_hidden_state[:, 1:].mean(1)], 1)),
}

OUTPUTS: dict[str, Callable[[torch.Tensor, Layout], torch.Tensor]] = {
    "softmax": lambda logits, layout: layout.softmax(logits),
    "sigmoid": lambda logits, layout: torch.sigmoid(logits),
    "clip": lambda logits, layout: layout.renormalise(logits.clamp(0, 1)),
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
