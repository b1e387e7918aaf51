"""Speed of the image pipeline (JPEG bytes -> normalised tensor) against a raw PIL decode of
the same JPEGs, in the same run: `make bench` shows both, in images/s (`images_per_s`).

Two cases: real Galaxy Zoo cutouts (424 px) fed to DINOv2 at 224 px, and the simulator's
64 px images at 64 px (the tiny CPU config). Goal: the pipeline at >= 80% of raw decode.
"""

import io
from functools import lru_cache

import numpy as np
import pytest
import torch
from PIL import Image

from baselines.images import ImageStats, to_model_input

N_IMAGES = 64
CASES = {"gz-424px-to-224px": (424, 224), "sim-64px-to-64px": (64, 64)}


def _galaxy_jpeg(size: int, seed: int) -> bytes:
    """A noisy elliptical light profile on a dark sky: what a galaxy cutout compresses like."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size] / size - 0.5
    angle, ratio = rng.uniform(0, np.pi), rng.uniform(0.3, 1)
    along = x * np.cos(angle) + y * np.sin(angle)
    across = (-x * np.sin(angle) + y * np.cos(angle)) / ratio
    light = np.exp(-np.hypot(along, across) / rng.uniform(0.03, 0.15))
    pixels = light[..., None] * np.array([255, 210, 160]) + rng.normal(0, 6, (size, size, 3))
    buf = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


@lru_cache(maxsize=None)
def _jpegs(source: int) -> tuple[bytes, ...]:
    return tuple(_galaxy_jpeg(source, seed) for seed in range(N_IMAGES))


def _raw_decode(jpegs, size):
    return [np.asarray(Image.open(io.BytesIO(j)).convert("RGB")) for j in jpegs]


def _pipeline(jpegs, size):
    return to_model_input(list(jpegs), size, ImageStats())


@pytest.fixture
def one_thread():
    """Per-core throughput (data-loading workers run one thread each); restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("step", ["raw-pil-decode", "pipeline"])
def test_image_throughput(benchmark, one_thread, case, step):
    source, size = CASES[case]
    jpegs = _jpegs(source)
    benchmark.group = f"images {case}"
    run = {"raw-pil-decode": _raw_decode, "pipeline": _pipeline}[step]
    out = benchmark(run, jpegs, size)
    if benchmark.stats:  # absent under --benchmark-disable
        benchmark.extra_info["images_per_s"] = N_IMAGES / benchmark.stats.stats.median
    assert len(out) == N_IMAGES
