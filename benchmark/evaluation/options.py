"""The knobs of scoring, kept free of numpy/pandas so the CLI can build its parser instantly."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ArgumentError

#: The Galaxy Zoo Evo convention: a fraction from fewer votes is mostly noise.
DEFAULT_MIN_VOTES = 20
DEFAULT_BOOTSTRAP = 1000


@dataclass(frozen=True)
class ScoreOptions:
    """min_votes: votes a question needs to be scored (when the truth has vote totals);
    bootstrap: draws for the intervals (0 = none); seed: of those draws; legacy: also compute
    the original study's definitions."""

    min_votes: int = DEFAULT_MIN_VOTES
    bootstrap: int = DEFAULT_BOOTSTRAP
    seed: int = 0
    legacy: bool = False

    def __post_init__(self) -> None:
        for name in ("min_votes", "bootstrap", "seed"):
            if getattr(self, name) < 0:
                raise ArgumentError(name, f"must be >= 0 (got {getattr(self, name)})")
