"""Rendering throughput of the simulator (pytest-benchmark; no timing assertions).

`ops` of the 64 px benchmark is batches per second: survey-renders per second is
ops x BATCH (goal >= 500 per core). The 424 px benchmark renders one galaxy in one survey.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.simulator.population import draw_population
from benchmark.simulator.randomness import stream
from benchmark.simulator.render import encode_jpeg, render
from benchmark.simulator.surveys import SURVEY_OPTICS

BATCH = 128


def _render_jpegs(pop, optics, size):
    return [encode_jpeg(rgb) for rgb in render(pop, optics, size, np.random.default_rng(0))]


@pytest.mark.parametrize("survey", list(SURVEY_OPTICS))
def test_render_64px_batch(benchmark, survey):
    pop = draw_population(BATCH, stream(0, "population"))
    jpegs = benchmark(_render_jpegs, pop, SURVEY_OPTICS[survey], 64)
    assert len(jpegs) == BATCH and all(j[:2] == b"\xff\xd8" for j in jpegs)


def test_render_424px_single(benchmark):
    pop = draw_population(1, stream(0, "population"))
    (jpeg,) = benchmark(_render_jpegs, pop, SURVEY_OPTICS["sdss"], 424)
    assert jpeg[:2] == b"\xff\xd8"
