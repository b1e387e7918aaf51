"""Named, independent random streams derived from one seed.

Each part of a simulation draws from its own stream, keyed by name, so changing how many
numbers one part uses (say, a new population parameter) never changes another part's output.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, *names: str) -> np.random.Generator:
    """A generator for the part named `names` of the simulation with `seed`."""
    keys = [zlib.crc32(name.encode("utf-8")) for name in names]
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))
