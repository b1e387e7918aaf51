"""How a model's output vector splits into Galaxy Zoo questions.

Fractions of one question's answers sum to 1 over all of its answers, so outputs, losses and
the linear probe all work question by question. A feature set lists each question's answers
next to each other (every set in the registry does); `Layout` checks that and hands out one
slice per question (computed once per layout: they are read on every batch).

A feature set may list only some of a question's answers (`study26` leaves out bulge 'just
noticeable' and arm count 'can't tell'): that question is *incomplete* and its listed fractions
sum to at most 1. A per-question softmax then gets one extra logit, an implicit 'other' slot for
the unlisted answers, which is dropped from the fractions, so they can sum to less than 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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

    @cached_property
    def questions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(R.QUESTION_OF_FEATURE[f] for f in self.features))

    @cached_property
    def slices(self) -> tuple[slice, ...]:
        """One slice of the feature axis per question, in `questions` order."""
        owners = [R.QUESTION_OF_FEATURE[f] for f in self.features]
        return tuple(slice(owners.index(q), len(owners) - owners[::-1].index(q))
                     for q in self.questions)

    @cached_property
    def complete(self) -> tuple[bool, ...]:
        """Per question: does the set list every answer (so its fractions sum to 1)?"""
        return tuple(s.stop - s.start == len(R.QUESTION_BY_NAME[q].answers)
                     for q, s in zip(self.questions, self.slices))

    @cached_property
    def slots(self) -> tuple[slice, ...]:
        """One slice of the softmax logits per question: its answers, then an 'other' slot if
        the question is incomplete."""
        out, start = [], 0
        for s, complete in zip(self.slices, self.complete):
            width = s.stop - s.start + (not complete)
            out.append(slice(start, start + width))
            start += width
        return tuple(out)

    @property
    def width(self) -> int:
        """Number of softmax logits: one per feature and one per incomplete question."""
        return self.slots[-1].stop

    def _listed(self, per_slot: list[torch.Tensor]) -> torch.Tensor:
        """Each question's slot values without its 'other' slot, back on the feature axis."""
        return torch.cat([v[:, :s.stop - s.start] for v, s in zip(per_slot, self.slices)], 1)

    def softmax(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, width) logits -> (N, K) fractions of the listed answers."""
        return self._listed([logits[:, s].softmax(1) for s in self.slots])

    def log_softmax(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, width) logits -> (N, K) log-fractions of the listed answers."""
        return self._listed([logits[:, s].log_softmax(1) for s in self.slots])

    def renormalise(self, values: torch.Tensor) -> torch.Tensor:
        """Non-negative (N, K) values as fractions: a complete question's divided by their sum
        (uniform where it is 0), an incomplete question's only scaled down to sum to 1 where
        they sum to more."""
        parts = []
        for s, complete in zip(self.slices, self.complete):
            part = values[:, s]
            total = part.sum(1, keepdim=True)
            if complete:
                part = torch.where(total > 0, part / total.clamp_min(1e-12),
                                   torch.full_like(part, 1 / part.shape[1]))
            else:
                part = part / total.clamp_min(1)
            parts.append(part)
        return torch.cat(parts, 1)

    def question_sums(self, values: torch.Tensor) -> torch.Tensor:
        """(N, K) -> (N, Q): the sum of each question's answers."""
        return torch.stack([values[:, s].sum(1) for s in self.slices], 1)
