"""How visible each feature of a galaxy is in one survey's images.

Volunteers classify what an image shows, not the truth. For every feature this module
measures, from the same component fluxes the renderer uses, its contrast against the light
beneath it, how much of that contrast survives the survey's PSF and pixels (a feature of
width w keeps w^2 / (w^2 + sigma^2)), and its signal-to-noise at the survey's depth, in each
of the survey's bands (colours and dust differ per band). A feature is visible when both its
surviving contrast and its S/N are well above a threshold. Analytic, so a calibration with
thousands of galaxies needs no rendering, yet depends on resolution, noise and bands alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammainc, gammaincinv

from .photometry import (COMPONENT_INDEX, FWHM_TO_SIGMA, component_fluxes, dust_optical_depth,
                         noise_per_arcsec)
from .population import Population
from .surveys import SurveyOptics

#: S/N at which a feature is half visible.
SNR_HALF = 6.0


@dataclass
class Visibility:
    """Per galaxy, in [0, 1] unless stated: how clearly the survey shows each feature."""

    arms: np.ndarray
    bar: np.ndarray
    knots: np.ndarray
    dust: np.ndarray
    companion: np.ndarray
    star: np.ndarray
    trail: np.ndarray
    disk: np.ndarray
    edge_on: np.ndarray  # how thin the light looks
    axis_ratio: np.ndarray  # observed axis ratio of the light after the PSF
    bulge_share: np.ndarray  # how much of the visible light the bulge is
    snr: np.ndarray  # S/N of the galaxy's light within 2 R50 (all bands), unbounded
    resolved: np.ndarray  # 1 for galaxies far larger than the PSF, 0 for point-like ones
    arm_pitch: np.ndarray  # truth, seen through the arms' visibility by the vote model
    arm_count: np.ndarray
    boxy: np.ndarray  # an edge-on bar shows as a boxy bulge


class _Seen:
    """Band-resolved fluxes and PSF of one survey for a population."""

    def __init__(self, pop: Population, optics: SurveyOptics):
        self.pop = pop
        self.flux = component_fluxes(pop, optics.bands)  # (N, C, bands)
        self.noise = noise_per_arcsec(optics)[None]  # (1, bands)
        sigma = np.array(optics.psf_fwhm) * FWHM_TO_SIGMA
        self.sigma2 = (sigma**2 + optics.pixel_scale**2 / 12.0)[None]  # (1, bands) arcsec^2
        self.tau = dust_optical_depth(pop, optics.bands)

    def of(self, component: str) -> np.ndarray:
        return self.flux[:, COMPONENT_INDEX[component], :]

    def detect(self, flux: np.ndarray, beneath: np.ndarray, width: np.ndarray,
               area: np.ndarray, contrast_half: float) -> np.ndarray:
        """Visibility of a feature of `flux` over `beneath` light, `width` and `area` in
        arcsec: S/N-weighted surviving contrast times an S/N term, both saturating at 1."""
        keep = width[:, None] ** 2 / (width[:, None] ** 2 + self.sigma2)
        snr = flux * keep / (self.noise * np.sqrt(area[:, None] + 4 * np.pi * self.sigma2))
        weight = snr**2 + 1e-12
        contrast = (keep * flux / np.maximum(beneath, 1e-12) * weight).sum(1) / weight.sum(1)
        total_snr2 = (snr**2).sum(1)
        return _saturate(contrast / contrast_half) * total_snr2 / (total_snr2 + SNR_HALF**2)

    def band_mean(self, value: np.ndarray) -> np.ndarray:
        """Average over bands weighted by the galaxy's light in each (what the eye sums)."""
        light = self.flux.sum(1) / self.noise
        return (value * light).sum(1) / light.sum(1)


def _saturate(x: np.ndarray) -> np.ndarray:
    return x**2 / (1.0 + x**2)


def _sersic_within(radius: np.ndarray, n: np.ndarray, re: np.ndarray) -> np.ndarray:
    """Share of a Sersic profile's light inside `radius`."""
    b = gammaincinv(2 * n, 0.5)
    return gammainc(2 * n, b * (radius / re) ** (1 / n))


def _exponential_within(radius: np.ndarray, h: np.ndarray) -> np.ndarray:
    x = radius / h
    return 1.0 - (1.0 + x) * np.exp(-x)


def measure(pop: Population, optics: SurveyOptics) -> Visibility:
    """Visibility of every feature of every galaxy in the survey described by `optics`."""
    s = _Seen(pop, optics)
    r50, q = pop.r50, pop.disk_q
    bulge, disk = s.of("bulge"), s.of("disk")

    tan = np.tan(np.radians(pop.arm_pitch))
    # Half the spacing between neighbouring arms at 1.5 R50, where arms show best.
    arm_width = np.pi * 1.5 * r50 * tan / pop.arm_count * np.sqrt(q)
    arms = s.detect(s.of("arms") * q[:, None], 0.5 * disk + 0.1 * bulge, arm_width,
                    2 * np.pi * r50**2 * q, contrast_half=0.2)

    # A bar whose contrast over the light beneath it keeps 0.1 after the PSF is half visible:
    # GZ2's bar_yes (mean 0.20, std 0.30, galaxy-zoo.md §5) needs most bars plain to the eye.
    bar_len = pop.bar_len * r50
    beneath = (disk * _exponential_within(pop.bar_len, pop.disk_h)[:, None]
               + bulge * _sersic_within(pop.bar_len, pop.bulge_n, pop.bulge_re)[:, None])
    bar = s.detect(s.of("bar") * q[:, None], beneath * pop.bar_q[:, None],
                   bar_len * np.sqrt(pop.bar_q * q), np.pi * bar_len**2 * pop.bar_q * q,
                   contrast_half=0.1)

    n_knots = (pop.knot_weight > 0).sum(1)
    knots = s.detect(s.of("knots"), 0.05 * disk + 0.02 * bulge, 0.06 * r50,
                     n_knots * np.pi * (0.1 * r50) ** 2, contrast_half=0.3)

    lane_width = (0.06 + 0.25 * q) * r50
    absorbed = (1.0 - np.exp(-s.tau)) * 0.3 * (disk + bulge)
    dust = s.detect(absorbed, 0.3 * (disk + bulge), lane_width, 4 * lane_width * r50,
                    contrast_half=0.3)

    total = s.flux.sum(1)
    companion = s.detect(s.of("companion"), 0.1 * total, pop.companion_sep * r50,
                         np.pi * (0.5 * r50) ** 2, contrast_half=0.3)
    point = np.full_like(r50, 1e3)  # points and trails are always sharp
    star = s.detect(s.of("star"), total - s.of("star"), point, np.zeros_like(r50),
                    contrast_half=0.3)
    trail = s.detect(s.of("trail"), 0.05 * total, point, 10 * r50**2, contrast_half=0.3)
    disk_seen = s.detect(disk, bulge + 1e-3 * total, pop.disk_h * r50, 4 * np.pi * r50**2,
                         contrast_half=2.0)

    galaxy_light = bulge + disk
    bulge_share = s.band_mean(bulge / np.maximum(galaxy_light + s.of("bar") + s.of("arms"),
                                                 1e-12))
    q_light = s.band_mean((bulge * pop.bulge_q[:, None] + disk * q[:, None])
                          / np.maximum(galaxy_light, 1e-12))
    psf2 = s.band_mean(np.broadcast_to(s.sigma2, s.flux.shape[::2]))
    axis_ratio = np.sqrt((q_light**2 * r50**2 + psf2) / (r50**2 + psf2))
    edge_on = 1.0 / (1.0 + np.exp((axis_ratio - 0.33) / 0.05))
    snr = np.sqrt((total**2 / (s.noise**2 * (4 * np.pi * r50[:, None] ** 2
                                              + 4 * np.pi * s.sigma2))).sum(1))
    return Visibility(
        arms=arms, bar=bar, knots=knots, dust=dust, companion=companion, star=star,
        trail=trail, disk=disk_seen, edge_on=edge_on, axis_ratio=axis_ratio,
        bulge_share=bulge_share, snr=snr, resolved=r50**2 / (r50**2 + 2.0 * psf2),
        arm_pitch=pop.arm_pitch, arm_count=pop.arm_count.astype(np.int64),
        boxy=(pop.bar_frac > 0) * (1.0 - q))
