"""Image pipeline: decoding at the right size, normalisation, rotations and flips."""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from baselines.images import ImageStats, Views, augment, decode_batch
from tests.fakes import fake_image


def _jpeg(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _smooth(size: int) -> np.ndarray:
    y, x = np.mgrid[:size, :size] / size
    return (np.stack([x, y, (x + y) / 2], -1) * 255).astype(np.uint8)


def test_decode_batch_shapes_and_layout():
    out = decode_batch([fake_image(1, 32), fake_image(2, 48)], 32)
    assert out.shape == (2, 3, 32, 32) and out.dtype == torch.uint8
    assert out.is_contiguous(memory_format=torch.channels_last)
    same = np.asarray(Image.open(io.BytesIO(fake_image(1, 32))).convert("RGB"))
    assert torch.equal(out[0].permute(1, 2, 0), torch.from_numpy(same.copy()))


def test_grey_jpegs_become_three_equal_channels():
    grey = _jpeg(_smooth(32)[..., 0])
    out = decode_batch([grey], 32)[0]
    assert torch.equal(out[0], out[1]) and torch.equal(out[1], out[2]) and out.float().std() > 10


def test_reduced_scale_decode_matches_a_full_decode_and_resize():
    jpeg = _jpeg(_smooth(256))
    fast = decode_batch([jpeg], 64)[0].permute(1, 2, 0).numpy().astype(float)
    full = Image.open(io.BytesIO(jpeg)).convert("RGB").resize((64, 64), Image.BILINEAR)
    assert np.abs(fast - np.asarray(full, dtype=float)).mean() < 2.0


def test_normalise_uses_the_backbone_statistics():
    stats = ImageStats(mean=(0.5, 0.5, 0.5), std=(0.25, 0.5, 1.0))
    pixels = torch.full((1, 3, 2, 2), 255, dtype=torch.uint8)
    assert stats.normalise(pixels)[0, :, 0, 0].tolist() == pytest.approx([2.0, 1.0, 0.5])


def test_quarter_turns_and_flips_are_exact():
    x = torch.rand(2, 3, 8, 8)
    turned = augment(x, torch.tensor([math.pi / 2, math.pi]), torch.tensor([False, False]))
    assert torch.allclose(turned[1], torch.rot90(x[1], 2, (1, 2)), atol=1e-5)
    assert (torch.allclose(turned[0], torch.rot90(x[0], 1, (1, 2)), atol=1e-5)
            or torch.allclose(turned[0], torch.rot90(x[0], -1, (1, 2)), atol=1e-5))
    mirrored = augment(x, torch.zeros(2), torch.tensor([True, False]))
    assert torch.allclose(mirrored[0], torch.flip(x[0], (2,)), atol=1e-5)
    assert torch.allclose(mirrored[1], x[1], atol=1e-5)


def test_any_rotation_keeps_a_centred_galaxy_centred():
    size = 32
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    blob = torch.from_numpy(np.exp(-(x**2 + (y / 2) ** 2) / 4)).float().expand(1, 3, -1, -1)
    rotated = augment(blob, torch.tensor([0.7]), torch.tensor([True]))
    assert float(rotated.sum()) == pytest.approx(float(blob.sum()), rel=0.02)
    assert rotated[0, 0, 16, 16] > 0.9 * blob[0, 0, 16, 16]


def test_views_depend_only_on_the_generator_seed():
    a = Views.draw(100, np.random.default_rng(3), rotate=True, flip=True)
    b = Views.draw(100, np.random.default_rng(3), rotate=True, flip=True)
    assert np.array_equal(a.angles, b.angles) and np.array_equal(a.flips, b.flips)
    assert 0 < a.flips.mean() < 1 and a.angles.max() > math.pi
    plain = Views.draw(5, np.random.default_rng(3), rotate=False, flip=False)
    assert not plain.angles.any() and not plain.flips.any()
