"""Image augmentations beyond rotation and flips, on batches, on the training device, torch only.

Images here are float (N, C, H, W) in display units [0, 1]. Every random number comes from a
`Draws` (one per global batch, keyed by seed, stage, epoch and batch), so a view depends only on
the seed and where the galaxy sits in the epoch, and N processes draw what one process draws.
Sizes are given in pixels of a `REFERENCE_SIZE` (224 px) image and scale with the input, so the
same settings mean the same thing for the 64 px quick start and 224 px DINOv2.

- `jitter_brightness`, `jitter_contrast`: torchvision's `ColorJitter` definitions (multiply;
  blend with the mean grey level), clamped to [0, 1] after each.
- `gaussian_blur`: a Gaussian kernel of its own width per image (a PSF; sigma 0 leaves it as is).
- `resample`: down to a coarser pixel grid and back (a survey with larger pixels).
- `band_gains`: each channel scaled on its own (another survey's bands and colours).
- `noise_to_depth`: Gaussian sky noise added until each channel's background noise reaches a
  target level (a shallower survey); an image already that noisy gets none.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

REFERENCE_SIZE = 224
FWHM_TO_SIGMA = 1 / (2 * math.sqrt(2 * math.log(2)))
MAD_TO_SIGMA = 1.4826  # a Gaussian's standard deviation per median absolute deviation
LUMA = (0.299, 0.587, 0.114)  # torchvision's grey level


class Draws:
    """The random numbers of one global batch, for this process's slice of it (`part`): each
    process draws the whole batch's values and keeps its own, so the split never changes them.
    Values come out in the order they are asked for, from a generator keyed by `key`."""

    def __init__(self, key: tuple[int, ...], part: slice, size: int):
        self.key, self.part, self.size = key, part, size
        self._rng: np.random.Generator | None = None

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:  # most algorithms draw nothing: build the generator on demand
            self._rng = np.random.default_rng(list(self.key))
        return self._rng

    def uniform(self, low: float, high: float, *shape: int) -> np.ndarray:
        """Per-galaxy uniform values, (galaxies, *shape)."""
        return self.rng.uniform(low, high, (self.size, *shape))[self.part]

    def beta(self, alpha: float) -> np.ndarray:
        return self.rng.beta(alpha, alpha, self.size)[self.part]

    def normal_like(self, x: torch.Tensor) -> torch.Tensor:
        """Standard normal noise shaped like `x`, drawn on its device."""
        generator = torch.Generator(x.device).manual_seed(int(self.rng.integers(2**63)))
        noise = torch.randn((self.size, *x.shape[1:]), generator=generator, device=x.device,
                            dtype=x.dtype)
        return noise[self.part]


def on(values: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """Host values as a tensor beside `like`, broadcastable over its trailing image dims."""
    tensor = torch.as_tensor(values, dtype=like.dtype).to(like.device, non_blocking=True)
    return tensor.reshape(*tensor.shape, *[1] * (like.dim() - tensor.dim()))


def in_pixels(length: float, size: int) -> float:
    """A length given at `REFERENCE_SIZE` in pixels of a `size` px image."""
    return length * size / REFERENCE_SIZE


def jitter_brightness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (x * factor).clamp(0, 1)


def jitter_contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    luma = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    grey = (x * luma).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    return (factor * x + (1 - factor) * grey).clamp(0, 1)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """Blur each image with its own Gaussian (`sigma` (N,) pixels), kernel `2 radius + 1` wide;
    separable, one grouped convolution per axis, reflected at the edges."""
    if radius == 0:
        return x
    n, c, h, w = x.shape
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (t / sigma.reshape(-1, 1).clamp_min(1e-3)) ** 2)
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (N C, K)
    flat = x.reshape(1, n * c, h, w)
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="reflect"),
                    kernel.view(n * c, 1, 1, -1), groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="reflect"),
                    kernel.view(n * c, 1, -1, 1), groups=n * c)
    return flat.reshape(n, c, h, w)


def blur_radius(largest_sigma: float) -> int:
    """Half-width of a kernel that holds 3 sigma of the widest blur."""
    return math.ceil(3 * largest_sigma)


def resample(x: torch.Tensor, keep: np.ndarray) -> torch.Tensor:
    """Each image down to `keep` (N,) of its pixels across (antialiased) and back up: the
    detail a coarser pixel grid loses, at the input size the model expects."""
    size = x.shape[-1]
    out = []
    for image, share in zip(x.split(1), keep):
        coarse = max(1, round(size * float(share)))
        if coarse < size:
            image = F.interpolate(F.interpolate(image, size=coarse, mode="bilinear",
                                                antialias=True, align_corners=False),
                                  size=size, mode="bilinear", align_corners=False)
        out.append(image)
    return torch.cat(out)


def band_gains(x: torch.Tensor, gains: torch.Tensor) -> torch.Tensor:
    """Scale channel c of image i by `gains[i, c]`."""
    return (x * gains).clamp(0, 1)


def background_noise(x: torch.Tensor) -> torch.Tensor:
    """(N, C) noise level of each channel, robustly from neighbouring pixels' differences (a
    galaxy's light varies smoothly; pixel-to-pixel jumps are noise)."""
    steps = (x[..., 1:] - x[..., :-1]).flatten(2)
    spread = (steps - steps.median(2, keepdim=True).values).abs().median(2).values
    return MAD_TO_SIGMA * spread / math.sqrt(2)


def noise_to_depth(x: torch.Tensor, target: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Add `noise` (standard normal, like `x`) so each channel's background noise becomes
    `target` (N, C, 1, 1): the difference in quadrature, nothing where it is already noisier."""
    extra = (target.square() - on(background_noise(x), x).square()).clamp_min(0).sqrt()
    return (x + extra * noise).clamp(0, 1)
