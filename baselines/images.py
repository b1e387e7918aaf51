"""Galaxy images: JPEG bytes -> uint8 pixels -> normalised model input, and augmentation.

Decoding is the expensive part, so it happens once per dataset (see `baselines.data`) and as
cheaply as the JPEG format allows: libjpeg decodes straight to a reduced scale (1/2, 1/4, 1/8:
the DCT-domain scaling `Image.draft` exposes, as `Image.thumbnail` uses) whenever that keeps at
least `DRAFT_KEEP` of the target size, and torch's uint8 resize finishes the job for a whole
batch at once. Everything after that runs on batches and on the training device: conversion to
float with the backbone's mean/std, then rotation and flips in a single `grid_sample`.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

DRAFT_KEEP = 0.9  # decode at a JPEG scale down to 90% of the target size, then resize up
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # what DINOv2's image processor uses
IMAGENET_STD = (0.229, 0.224, 0.225)


def open_rgb(jpeg: bytes, size: int) -> Image.Image:
    """Decode at the smallest JPEG scale that keeps at least `DRAFT_KEEP` x `size` pixels."""
    image = Image.open(io.BytesIO(jpeg))
    keep = math.ceil(size * DRAFT_KEEP)
    image.draft("RGB", (keep, keep))
    return image if image.mode == "RGB" else image.convert("RGB")  # convert() would copy


def decode_batch(jpegs: list[bytes], size: int) -> torch.Tensor:
    """JPEG bytes -> (N, 3, size, size) uint8, a channels-last view of N x size x size x 3."""
    decoded = [np.asarray(open_rgb(j, size)) for j in jpegs]
    rows_of: dict[tuple[int, ...], list[int]] = {}
    for i, pixels in enumerate(decoded):
        rows_of.setdefault(pixels.shape, []).append(i)
    parts = {shape: _resize(torch.from_numpy(np.stack([decoded[i] for i in rows])), size)
             for shape, rows in rows_of.items()}
    if len(parts) == 1:
        return next(iter(parts.values()))
    out = torch.empty((len(decoded), 3, size, size), dtype=torch.uint8,
                      memory_format=torch.channels_last)
    for shape, rows in rows_of.items():
        out[rows] = parts[shape]
    return out


def _resize(stacked: torch.Tensor, size: int) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, size, size) uint8 (torch's SIMD uint8 path)."""
    batch = stacked.permute(0, 3, 1, 2)
    if batch.shape[2:] == (size, size):
        return batch
    return F.interpolate(batch, size=(size, size), mode="bilinear", antialias=True,
                         align_corners=False)


@dataclass(frozen=True)
class ImageStats:
    """Per-channel mean and std (0-1 units) the backbone was pretrained with."""

    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD

    def normalise(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, H, W) -> float32 model input (contiguous: per-channel arithmetic on a
        channels-last tensor is several times slower on CPUs)."""
        shape = (1, -1, 1, 1)
        mean = torch.tensor(self.mean, device=pixels.device).view(shape) * 255
        inv_std = 1 / (torch.tensor(self.std, device=pixels.device).view(shape) * 255)
        return pixels.contiguous().float().sub_(mean).mul_(inv_std)


def to_model_input(jpegs: list[bytes], size: int, stats: ImageStats) -> torch.Tensor:
    """The whole pipeline: JPEG bytes -> normalised float tensor (what the benchmark times)."""
    return stats.normalise(decode_batch(jpegs, size))


@dataclass(frozen=True)
class Views:
    """One random view per galaxy: rotation angle (radians) and whether to mirror it."""

    angles: np.ndarray
    flips: np.ndarray

    @classmethod
    def draw(cls, n: int, rng: np.random.Generator, rotate: bool, flip: bool) -> "Views":
        angles = rng.uniform(0, 2 * math.pi, n) if rotate else np.zeros(n)
        flips = rng.random(n) < 0.5 if flip else np.zeros(n, dtype=bool)
        return cls(angles.astype(np.float32), flips)

    @classmethod
    def identity(cls, n: int) -> "Views":
        return cls(np.zeros(n, dtype=np.float32), np.zeros(n, dtype=bool))

    def __getitem__(self, rows) -> "Views":
        return Views(self.angles[rows], self.flips[rows])


def augment(x: torch.Tensor, angles: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
    """Rotate each image by its angle and mirror the flagged ones, in one resampling.

    Corners uncovered by the rotation are filled by reflection (sky, not black borders).
    """
    cos, sin = torch.cos(angles), torch.sin(angles)
    mirror = 1 - 2 * flips.to(x.dtype)
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos * mirror, -sin, zero], 1),
                         torch.stack([sin * mirror, cos, zero], 1)], 1).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
