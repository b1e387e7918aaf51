"""Images of galaxies as a survey shows them: components -> bands -> PSF and noise -> RGB.

Vectorised over a batch of galaxies on one pixel grid. Every component is an analytic
profile evaluated in the galaxy's own frame (sizes in R50), normalised to unit flux and
weighted by its band fluxes from `photometry`; the PSF (and the blur of the native pixels) is
a Gaussian applied in Fourier space together with the survey's noise, correlated on the
native pixel scale when the cutout is finer than the detector. Bands map to RGB (reddest to
R) through one asinh stretch shared by all surveys, as Galaxy Zoo composites do.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields
from typing import Callable, Mapping

import numpy as np
from scipy.special import gammaincinv

from .bands import BANDS
from .photometry import COMPONENTS, FWHM_TO_SIGMA, component_fluxes, dust_optical_depth, sky_noise
from .population import Population
from .surveys import SurveyOptics

#: Pixels of the images volunteers classified; cutout rules are stated for this size.
GZ_IMAGE_SIZE = 424
#: The asinh stretch, in units of the survey's sky noise per native pixel (r-equivalent,
#: geometric mean over its channels): light fainter than STRETCH_SOFT sigma is shown
#: linearly, brighter light logarithmically up to white at STRETCH_WHITE sigma. Each survey's
#: composite thus shows its sky noise alike, and a shallow survey shows less of a galaxy.
STRETCH_SOFT = 3.0
STRETCH_WHITE = 100.0
JPEG_QUALITY = 90


@dataclass
class Geometry:
    """Pixel coordinates of a batch in units of each galaxy's R50: sky (x, y), the galaxy's
    major/minor axes (xp, yp) and the de-projected disk plane (xd, yd, rd)."""

    pop: Population
    pix: np.ndarray  # (B, 1, 1) pixel size in R50
    x: np.ndarray
    y: np.ndarray
    xp: np.ndarray
    yp: np.ndarray
    xd: np.ndarray
    yd: np.ndarray
    rd: np.ndarray

    @classmethod
    def build(cls, pop: Population, pixel_r50: np.ndarray, size: int) -> "Geometry":
        grid = (np.arange(size, dtype=np.float32) - (size - 1) / 2.0)
        pix = pixel_r50.astype(np.float32)[:, None, None]
        x = grid[None, None, :] * pix
        y = -grid[None, :, None] * pix
        pa = np.radians(pop.pa).astype(np.float32)[:, None, None]
        cos, sin = np.cos(pa), np.sin(pa)
        xp = x * cos + y * sin
        yp = y * cos - x * sin
        yd = yp / pop.disk_q.astype(np.float32)[:, None, None]
        rd = np.sqrt(xp**2 + yd**2 + (0.25 * pix) ** 2)
        return cls(pop, pix, x, y, xp, yp, xp, yd, rd)

    def take(self, mask: np.ndarray) -> "Geometry":
        return Geometry(self.pop.take(mask),
                        *(getattr(self, f.name)[mask] for f in fields(self)[1:]))


def _column(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)[:, None, None]


def _bulge(g: Geometry) -> np.ndarray:
    p = g.pop
    n = _column(p.bulge_n)
    b_n = _column(gammaincinv(2.0 * p.bulge_n, 0.5))
    r = np.sqrt(g.xp**2 + (g.yp / _column(p.bulge_q)) ** 2 + (0.25 * g.pix) ** 2)
    return np.exp(-b_n * (r / _column(p.bulge_re)) ** (1.0 / n))


def _disk(g: Geometry) -> np.ndarray:
    return np.exp(-g.rd / _column(g.pop.disk_h))


def _arms(g: Geometry) -> np.ndarray:
    p = g.pop
    h = _column(p.disk_h)
    winding = np.log(g.rd / h) / _column(np.tan(np.radians(p.arm_pitch)))
    phase = _column(p.arm_count) * (np.arctan2(g.yd, g.xd) - winding) - _column(p.arm_phase)
    inner = _column(np.maximum.reduce([p.bar_len, 2.0 * p.bulge_re, np.full(len(p), 0.3)]))
    envelope = np.exp(-g.rd / h) * (1.0 - np.exp(-((g.rd / inner) ** 2)))
    return envelope * ((1.0 + np.cos(phase)) / 2.0) ** 3


def _bar(g: Geometry) -> np.ndarray:
    p = g.pop
    angle = np.radians(p.bar_angle)
    cos, sin = _column(np.cos(angle)), _column(np.sin(angle))
    length = _column(p.bar_len)
    half_pixel = 0.5 * g.pix  # keeps a bar thinner than a pixel on the grid
    along = (g.xd * cos + g.yd * sin) / np.sqrt(length**2 + half_pixel**2)
    across = (g.yd * cos - g.xd * sin) / np.sqrt((length * _column(p.bar_q)) ** 2 + half_pixel**2)
    return np.clip(1.0 - along**2 - across**2, 0.0, None) ** 2


def _blobs(g: Geometry, x0: np.ndarray, y0: np.ndarray, weight: np.ndarray,
           width: float) -> np.ndarray:
    """Sum of round Gaussians at (x0, y0) in the (xp, yp) frame; (B, K) arrays."""
    sigma2 = width**2 + (0.5 * g.pix) ** 2
    out = np.zeros_like(g.xp)
    for k in range(x0.shape[1]):
        d2 = (g.xp - _column(x0[:, k])) ** 2 + (g.yp - _column(y0[:, k])) ** 2
        out += _column(weight[:, k]) * np.exp(-0.5 * d2 / sigma2)
    return out


def _knots(g: Geometry) -> np.ndarray:
    p = g.pop
    x0 = p.knot_r * np.cos(p.knot_theta)
    y0 = p.knot_r * np.sin(p.knot_theta) * p.disk_q[:, None]
    return _blobs(g, x0, y0, p.knot_weight, width=0.06)


def _companion(g: Geometry) -> np.ndarray:
    p = g.pop
    angle = np.radians(p.companion_angle)
    dx = g.x - _column(p.companion_sep * np.cos(angle))
    dy = g.y - _column(p.companion_sep * np.sin(angle))
    return np.exp(-np.sqrt(dx**2 + dy**2 + (0.25 * g.pix) ** 2) / 0.25)


def _star(g: Geometry) -> np.ndarray:
    p = g.pop
    pa = np.radians(p.pa)  # the star sits at (star_x, star_y) on the sky
    x0 = p.star_x * np.cos(pa) + p.star_y * np.sin(pa)
    y0 = p.star_y * np.cos(pa) - p.star_x * np.sin(pa)
    return _blobs(g, x0[:, None], y0[:, None], np.ones((len(p), 1)), width=0.0)


def _trail(g: Geometry) -> np.ndarray:
    p = g.pop
    angle = np.radians(p.trail_angle)
    distance = g.x * _column(np.sin(angle)) - g.y * _column(np.cos(angle)) - _column(
        p.trail_offset)
    return np.exp(-0.5 * (distance / (0.5 * g.pix + 0.02)) ** 2)


SHAPES: Mapping[str, Callable[[Geometry], np.ndarray]] = {
    "bulge": _bulge, "disk": _disk, "bar": _bar, "arms": _arms, "knots": _knots,
    "companion": _companion, "star": _star, "trail": _trail,
}


def _dust_lane(g: Geometry) -> np.ndarray:
    """Mid-plane lane along the major axis, as thin as the projected disk allows."""
    p = g.pop
    width = _column(0.06 + 0.25 * p.disk_q) + 0.5 * g.pix
    return np.exp(-0.5 * (g.yp / width) ** 2 - np.abs(g.xp) / _column(3.0 * p.disk_h))


def pixel_scale(pop: Population, optics: SurveyOptics, size: int) -> np.ndarray:
    """Arcsec per pixel of a `size` px cutout made with the survey's cutout rule."""
    scale_424 = optics.cutout.arcsec_per_pixel_424(pop.r50, pop.r90)
    return scale_424 * GZ_IMAGE_SIZE / size


def surface_brightness(pop: Population, optics: SurveyOptics, size: int) -> np.ndarray:
    """(B, bands, S, S) noiseless, unblurred surface brightness (nanomaggies / arcsec^2)."""
    pix_arcsec = pixel_scale(pop, optics, size)
    geometry = Geometry.build(pop, pix_arcsec / pop.r50, size)
    fluxes = component_fluxes(pop, optics.bands).astype(np.float32)
    tau = dust_optical_depth(pop, optics.bands).astype(np.float32)
    dusty = np.zeros((len(pop), len(optics.bands), size, size), dtype=np.float32)
    clear = np.zeros_like(dusty)
    for c, component in enumerate(COMPONENTS):
        active = fluxes[:, c, :].max(axis=1) > 0
        if not active.any():
            continue
        shape = SHAPES[component.name](geometry if active.all() else geometry.take(active))
        shape /= np.maximum(shape.sum(axis=(1, 2), keepdims=True), np.finfo(np.float32).tiny)
        target = dusty if component.dusty else clear
        target[active] += fluxes[active, c, :, None, None] * shape[:, None]
    lane = _dust_lane(geometry)[:, None]
    image = dusty * np.exp(-tau[:, :, None, None] * lane) + clear
    return image / (pix_arcsec.astype(np.float32) ** 2)[:, None, None, None]


def _gaussian_filter(sigma: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fourier filter of a Gaussian blur (sigma in pixels, (B, bands)) on the rfft2 grid, and
    the variance it leaves of unit white noise."""
    ky = np.fft.fftfreq(size).astype(np.float32)
    kx = np.fft.rfftfreq(size).astype(np.float32)
    s2 = (2.0 * np.pi**2 * sigma**2).astype(np.float32)[:, :, None, None]
    filt = np.exp(-s2 * (ky[:, None] ** 2 + kx[None, :] ** 2))
    axis = np.exp(-2.0 * s2[..., 0] * ky**2).mean(axis=-1)  # separable mean of |H|^2
    return filt, axis**2


def observe(pop: Population, optics: SurveyOptics, size: int,
            rng: np.random.Generator) -> np.ndarray:
    """(B, bands, S, S) what the survey records: PSF-blurred light plus its noise."""
    pix = pixel_scale(pop, optics, size)[:, None]
    native = optics.pixel_scale
    psf_sigma = np.array(optics.psf_fwhm) * FWHM_TO_SIGMA
    blur = np.sqrt(psf_sigma[None] ** 2 + native**2 / 12.0) / pix
    psf, _ = _gaussian_filter(blur, size)
    per_pixel = sky_noise(optics)[None] * native / np.maximum(pix, native)
    noise = rng.standard_normal((len(pop), len(optics.bands), size, size), dtype=np.float32)
    spectrum = np.fft.rfft2(surface_brightness(pop, optics, size)) * psf
    # Cutouts finer than the detector's pixels show noise correlated on the native scale;
    # coarser ones show it white (and need no Fourier transform of the noise).
    fine = native > pix[:, 0]
    white = (per_pixel * ~fine[:, None]).astype(np.float32)[:, :, None, None]
    if fine.any():
        smooth, variance = _gaussian_filter(0.5 * native / pix[fine] * np.ones((1, len(
            optics.bands))), size)
        scale = (per_pixel[fine] / np.sqrt(variance)).astype(np.float32)[:, :, None, None]
        spectrum[fine] += np.fft.rfft2(noise[fine]) * smooth * scale
    return np.fft.irfft2(spectrum, s=(size, size)).astype(np.float32) + noise * white


def to_rgb(image: np.ndarray, optics: SurveyOptics) -> np.ndarray:
    """(B, bands, S, S) surface brightness -> (B, S, S, 3) uint8, reddest band as R.

    Channels are balanced for a disk-coloured source, so old light looks red, young blue."""
    disk = 10.0 ** (-0.4 * np.array([BANDS[b].colour["disk"] for b in optics.bands]))
    noise = np.exp(np.mean(np.log(sky_noise(optics) / disk)))  # r-equivalent
    soft = (STRETCH_SOFT * noise * disk).astype(np.float32)
    display = np.arcsinh(image / soft[None, :, None, None]) / np.arcsinh(
        STRETCH_WHITE / STRETCH_SOFT)
    rgb = np.clip(display[:, ::-1], 0.0, 1.0) * 255.0 + 0.5
    return np.moveaxis(rgb.astype(np.uint8), 1, -1)


def render(pop: Population, optics: SurveyOptics, size: int,
           rng: np.random.Generator) -> np.ndarray:
    """(B, S, S, 3) uint8 RGB cutouts of a batch as `optics` shows them."""
    return to_rgb(observe(pop, optics, size, rng), optics)


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """One (S, S, 3) image as baseline JPEG bytes (deterministic for a given libjpeg)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
