"""The simulated shift is real: a model fitted on simulated SDSS loses accuracy on UKIDSS
(and the gallery that shows it picks what it says).

Thresholds were set from seeds 0-5 (n=3000; table in docs/simulator.md): the mean Pearson r
falls by 0.23-0.32 (by at most 0.015 with every shift off); spiral's by 0.28-0.42, ranking
1st-4th of the nine features by drop and 1st-3rd by drop relative to its SDSS r (bar takes
1st on some seeds). Bar's falls by 0.18-0.28, ranking only 5th-6th by drop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from benchmark import registry as R
from benchmark.simulator.studies import gallery
from benchmark.simulator.studies.shift_probe import image_features, shift_probe

SEED = 0
SPIRAL = {"spiral_yes", "spiral_no"}  # near mirror images: one question, counted once
BAR = {"bar_yes", "bar_no"}


@pytest.fixture(scope="module")
def probes() -> dict[str, pd.DataFrame]:
    return {shifts: shift_probe(n=3000, seed=SEED, shifts=(shifts,)).set_index("feature")
            for shifts in ("all", "none")}


def _largest(values: pd.Series, k: int) -> set[str]:
    return set(values.sort_values(ascending=False).index[:k])


def test_model_fitted_on_sdss_loses_accuracy_on_ukidss(probes):
    table = probes["all"]
    assert list(table.index) == list(R.BENCHMARK_FEATURES)
    assert table["r_sdss"].mean() > 0.5  # the model learned something to lose
    assert table["r_ukidss"].mean() < table["r_sdss"].mean() - 0.1


def test_spiral_arms_are_among_the_most_degraded(probes):
    table = probes["all"]
    assert SPIRAL & _largest(table["drop"], 4)
    assert SPIRAL & _largest(table["drop"] / table["r_sdss"], 3)


@pytest.mark.xfail(strict=True, reason=(
    "not met by the simulator: with bar votes calibrated to the real UKIDSS-GZ2 agreement "
    "(rho ~0.61) and rare confident UKIDSS bars, bar's drop (0.18-0.28) still ranks 5th-6th, "
    "behind the wavelength-driven smooth and featured drops; see docs/simulator.md"))
def test_bars_are_among_the_most_degraded(probes):
    assert BAR & _largest(probes["all"]["drop"], 4)


def test_without_survey_differences_the_drop_mostly_vanishes(probes):
    shifted, unshifted = (probes[s]["drop"].mean() for s in ("all", "none"))
    assert unshifted < 0.25 * shifted


def test_same_seed_same_table():
    first, second = (shift_probe(n=300, seed=4, image_size=16) for _ in range(2))
    pd.testing.assert_frame_equal(first, second)


def test_image_features_ignore_rotation():
    rgb = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    turned = np.rot90(rgb, k=1, axes=(1, 2))
    np.testing.assert_allclose(image_features(turned), image_features(rgb), atol=1e-4)
    assert not np.allclose(image_features(rgb[:1]), image_features(rgb[1:]), atol=1e-2)


def test_gallery_shows_one_galaxy_of_each_kind(tmp_path):
    labels, pop = gallery.pick_galaxies(seed=1)
    assert labels == list(gallery.PICKS)
    for i, test in enumerate(gallery.PICKS.values()):
        assert test(pop)[i]
    png = gallery.draw_grid(tmp_path / "grid.png", seed=1, size=32, zoom=1)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > len(labels) * 32
