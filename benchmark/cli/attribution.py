"""The benchmark side of `sommelier attribute`: which simulated galaxies a benchmark
dataset's UKIDSS test holds, and a checkpoint as the model (the simulation side, rendering and
scoring, is `benchmark.simulator.studies.attribution`)."""

from __future__ import annotations

from pathlib import Path

from .. import registry as R
from ..simulator.studies.attribution import (Attribution, ScoredGalaxies, attribute,
                                             scored_galaxies)


def dataset_galaxies(sim: str | Path, data: str | Path, n: int | None = None) -> ScoredGalaxies:
    """The UKIDSS test galaxies of the benchmark dataset `data` built from the simulation in
    `sim` (at most the first `n` in simulation order)."""
    from ..dataset.load import load_split

    split = load_split(data, R.PRIMARY_SURVEY, R.PRIMARY_SPLIT, columns=["source_id"])
    return scored_galaxies(sim, split["source_id"], str(data), n)


def attribute_checkpoint(sim: str | Path, data: str | Path, checkpoint: str | Path,
                         n: int | None = None, model: str | None = None,
                         progress: bool = True) -> Attribution:
    """How much of a checkpoint's drop from SDSS to UKIDSS each simulated shift explains;
    the inputs are checked before the model is loaded."""
    from .models import image_predictor

    galaxies = dataset_galaxies(sim, data, n)
    return attribute(galaxies, image_predictor(checkpoint), model=model or str(checkpoint),
                     progress=progress)
