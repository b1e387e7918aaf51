"""How a model's output vector splits into Galaxy Zoo questions.

Fractions of one question's answers sum to 1, so outputs, losses and the linear probe all work
question by question. A feature set lists each question's answers next to each other (every
set in the registry does); `Layout` checks that and hands out one slice per question.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from benchmark import registry as R
from benchmark.errors import SommelierError


@dataclass(frozen=True)
class Layout:
    features: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in R.QUESTION_OF_FEATURE]
        if unknown:
            raise SommelierError(f"unknown features {unknown}")
        owners = [R.QUESTION_OF_FEATURE[f] for f in self.features]
        runs = [q for i, q in enumerate(owners) if i == 0 or owners[i - 1] != q]
        if len(runs) != len(set(runs)):
            raise SommelierError("a feature set must list each question's answers together; "
                                 f"got {list(self.features)}")

    @property
    def questions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(R.QUESTION_OF_FEATURE[f] for f in self.features))

    @property
    def slices(self) -> tuple[slice, ...]:
        """One slice of the feature axis per question, in `questions` order."""
        owners = [R.QUESTION_OF_FEATURE[f] for f in self.features]
        return tuple(slice(owners.index(q), len(owners) - owners[::-1].index(q))
                     for q in self.questions)

    def softmax(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.cat([logits[:, s].softmax(1) for s in self.slices], 1)

    def log_softmax(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.cat([logits[:, s].log_softmax(1) for s in self.slices], 1)

    def renormalise(self, values: torch.Tensor) -> torch.Tensor:
        """Divide each question's non-negative values by their sum (uniform where it is 0)."""
        parts = []
        for s in self.slices:
            part = values[:, s]
            total = part.sum(1, keepdim=True)
            parts.append(torch.where(total > 0, part / total.clamp_min(1e-12),
                                     torch.full_like(part, 1 / part.shape[1])))
        return torch.cat(parts, 1)

    def question_sums(self, values: torch.Tensor) -> torch.Tensor:
        """(N, K) -> (N, Q): the sum of each question's answers."""
        return torch.stack([values[:, s].sum(1) for s in self.slices], 1)
