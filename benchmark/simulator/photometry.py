"""Light of each galaxy component in each band: the one place colours are applied.

The renderer and the visibility measures both start from these fluxes, so what volunteers
are modelled to see and what the images show come from the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bands import BANDS
from .population import Population
from .surveys import SurveyOptics

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
#: Flux unit: nanomaggies (flux of an r = 22.5 AB source is 1).
ZERO_POINT = 22.5


@dataclass(frozen=True)
class Component:
    """A light component: its r-band share lives in `Population.<frac>`; `dusty` components
    sit in the disk and are dimmed by its dust lane."""

    name: str
    frac: str
    population: str
    dusty: bool


COMPONENTS: tuple[Component, ...] = (
    Component("bulge", "bulge_frac", "old", True),
    Component("disk", "disk_frac", "disk", True),
    Component("bar", "bar_frac", "old", True),
    Component("arms", "arm_frac", "young", True),
    Component("knots", "knot_frac", "young", True),
    Component("companion", "companion_frac", "disk", False),
    Component("star", "star_frac", "disk", False),
    Component("trail", "trail_frac", "flat", False),
)
COMPONENT_INDEX = {c.name: i for i, c in enumerate(COMPONENTS)}


def magnitude_to_flux(mag: np.ndarray | float) -> np.ndarray:
    return 10.0 ** (-0.4 * (np.asarray(mag) - ZERO_POINT))


def component_fluxes(pop: Population, bands: tuple[str, ...]) -> np.ndarray:
    """(galaxies, components, bands) total flux of each component in each band."""
    fractions = np.stack([getattr(pop, c.frac) for c in COMPONENTS], axis=1)
    colours = np.array([[BANDS[b].colour[c.population] for b in bands] for c in COMPONENTS])
    total = magnitude_to_flux(pop.mag_r)
    return total[:, None, None] * fractions[:, :, None] * 10.0 ** (-0.4 * colours)[None]


def dust_optical_depth(pop: Population, bands: tuple[str, ...]) -> np.ndarray:
    """(galaxies, bands) central optical depth of the dust lane; grows as the disk tilts."""
    extinction = np.array([BANDS[b].extinction for b in bands])
    tilt = (1.0 - pop.disk_q) ** 2
    return (pop.dust_tau * tilt)[:, None] * extinction[None]


def point_source_flux_limit(depth: tuple[float, ...], bands: tuple[str, ...]) -> np.ndarray:
    """(bands,) 5 sigma point-source flux of each channel, from r-equivalent depths."""
    return np.array([magnitude_to_flux(d + BANDS[b].colour["disk"]) for d, b in zip(depth, bands)])


def noise_per_arcsec(optics: SurveyOptics) -> np.ndarray:
    """(bands,) flux noise in an aperture of 1 arcsec^2 (it grows as sqrt(area)), from the
    5 sigma point-source depth measured in the PSF's noise-equivalent area 4 pi sigma^2."""
    area = 4.0 * np.pi * (np.array(optics.psf_fwhm) * FWHM_TO_SIGMA) ** 2
    return point_source_flux_limit(optics.depth, optics.bands) / (5.0 * np.sqrt(area))


def sky_noise(optics: SurveyOptics) -> np.ndarray:
    """(bands,) noise of one native pixel in surface brightness (nanomaggies / arcsec^2)."""
    return noise_per_arcsec(optics) / optics.pixel_scale
