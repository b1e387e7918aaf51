"""How each survey sees the sky: footprint, optics, depth, bands and its volunteers.

One `SurveyOptics` entry per survey of `benchmark.registry.SURVEYS`; the renderer, the
visibility measures and the vote model read only these entries, so a survey is one record and
a shift (see `shifts`) is a swap of some of its fields for those of the reference survey.
Numbers follow the published survey facts (pixel scales, seeing, depths, bands of SDSS, the
Legacy Surveys and UKIDSS LAS).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .. import registry as R
from .bands import BANDS

#: The survey the others are compared with; a switched-off shift copies its fields.
REFERENCE = "sdss"


@dataclass(frozen=True)
class Box:
    """A right-ascension/declination box in degrees; ra_min > ra_max wraps through 0."""

    ra_min: float
    ra_max: float
    dec_min: float
    dec_max: float

    def contains(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        if self.ra_min <= self.ra_max:
            in_ra = (ra >= self.ra_min) & (ra < self.ra_max)
        else:
            in_ra = (ra >= self.ra_min) | (ra < self.ra_max)
        return in_ra & (dec >= self.dec_min) & (dec < self.dec_max)

    @property
    def ra_width(self) -> float:
        return (self.ra_max - self.ra_min) % 360.0

    @property
    def area(self) -> float:
        """Solid angle in square degrees."""
        band = np.sin(np.radians(self.dec_max)) - np.sin(np.radians(self.dec_min))
        return float(self.ra_width * band * np.degrees(1.0))


@dataclass(frozen=True)
class Cutout:
    """Galaxy Zoo's cutout rule: arcsec per pixel of a 424 px image is
    max(min(r50_factor R50, r90_factor R90), floor), so every galaxy fills a similar share."""

    r50_factor: float
    r90_factor: float
    floor: float

    def arcsec_per_pixel_424(self, r50: np.ndarray, r90: np.ndarray) -> np.ndarray:
        return np.maximum(np.minimum(self.r50_factor * r50, self.r90_factor * r90), self.floor)


@dataclass(frozen=True)
class Volunteers:
    """How many volunteers classify one galaxy: a mixture of (share, typical count) modes
    with log-normal scatter (GZ DECaLS is bimodal: ~5 or ~40)."""

    modes: tuple[tuple[float, float], ...]
    spread: float

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        shares = np.array([s for s, _ in self.modes])
        typical = np.array([c for _, c in self.modes])
        mode = rng.choice(len(self.modes), size=n, p=shares / shares.sum())
        counts = np.rint(typical[mode] * np.exp(rng.normal(0.0, self.spread, n)))
        return np.maximum(counts, 1).astype(np.int64)


@dataclass(frozen=True)
class Answering:
    """How a campaign's volunteers answer one 'is this feature there?' question.

    floor: share of 'yes' when nothing of the feature is visible (eagerness);
    ceiling: share of 'yes' when the feature is as visible as it gets (how sure volunteers
    can be from these images); the share of 'yes' runs linearly in visibility between them.
    """

    floor: float
    ceiling: float

    def yes(self, visible: np.ndarray) -> np.ndarray:
        return self.floor + (self.ceiling - self.floor) * visible


@dataclass(frozen=True)
class Behaviour:
    """How a campaign's volunteers answer what they see (the 'vote behaviour' shift).

    artifact_rate: share of votes for 'star or artifact' on a clean galaxy image;
    featured_bias: logit offset of 'featured' (negative = calls more galaxies smooth);
    concentration: Dirichlet concentration of the volunteers' answer probabilities
    (lower = more disagreement between galaxies of the same visibility);
    features: how each feature question (by registry question name) is answered.
    """

    artifact_rate: float
    featured_bias: float
    concentration: float
    features: Mapping[str, Answering]


@dataclass(frozen=True)
class SurveyOptics:
    """Everything the simulator needs to know about one survey.

    bands, psf_fwhm and depth are per channel, bluest first (rendered as B, G, R). depth is
    the 5 sigma point-source limit expressed as the r magnitude of a disk-coloured source
    (`r_equivalent`), so that swapping bands (wavelength) and depths (noise) are independent.
    """

    name: str
    release: str
    bands: tuple[str, ...]
    psf_fwhm: tuple[float, ...]
    pixel_scale: float
    cutout: Cutout
    depth: tuple[float, ...]
    behaviour: Behaviour
    volunteers: Volunteers
    footprint: tuple[Box, ...]
    subset_of: str | None
    astrometry_sigma: float | None
    id_style: str

    @property
    def scheme(self) -> R.NamingScheme:
        return R.NAMING_SCHEMES[R.SURVEYS[self.name].hf_scheme]

    @property
    def has_coordinates(self) -> bool:
        return self.astrometry_sigma is not None

    def in_footprint(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        inside = np.zeros(np.shape(ra), dtype=bool)
        for box in self.footprint:
            inside |= box.contains(ra, dec)
        return inside


def r_equivalent(bands: tuple[str, ...], ab_depths: tuple[float, ...]) -> tuple[float, ...]:
    """AB point-source depths as the r magnitude of a disk-coloured source at that depth."""
    return tuple(round(d - BANDS[b].colour["disk"], 3) for b, d in zip(bands, ab_depths))


# GZ2's bar_yes: mean 0.20, std 0.30, zero for 48% of galaxies (galaxy-zoo.md §5): optical
# volunteers seldom call a bar where none shows, and agree on the bars they see.
_OPTICAL_VOLUNTEERS = Behaviour(
    artifact_rate=0.008, featured_bias=0.0, concentration=15.0,
    features=MappingProxyType({"bar": Answering(floor=0.07, ceiling=0.92),
                               "spiral": Answering(floor=0.22, ceiling=0.95)}))
_NGC = Box(110.0, 260.0, -5.0, 65.0)
_STRIPE82 = Box(315.0, 45.0, -1.25, 1.25)

SURVEY_OPTICS: Mapping[str, SurveyOptics] = MappingProxyType({s.name: s for s in (
    SurveyOptics(
        "sdss", "gz2", ("g", "r", "i"), psf_fwhm=(1.5, 1.4, 1.3), pixel_scale=0.396,
        cutout=Cutout(np.inf, 0.02, 0.0),
        depth=r_equivalent(("g", "r", "i"), (22.2, 22.2, 21.3)),
        behaviour=_OPTICAL_VOLUNTEERS,
        volunteers=Volunteers(((1.0, 44.0),), spread=0.12),
        footprint=(_NGC, _STRIPE82), subset_of=None, astrometry_sigma=0.06,
        id_style="dr7objid"),
    SurveyOptics(
        "decals", "gz_decals", ("g", "r", "z"), psf_fwhm=(1.29, 1.18, 1.11), pixel_scale=0.262,
        cutout=Cutout(0.04, 0.02, 0.1),
        depth=r_equivalent(("g", "r", "z"), (24.65, 23.61, 22.84)),
        behaviour=_OPTICAL_VOLUNTEERS,
        volunteers=Volunteers(((0.5, 5.0), (0.5, 40.0)), spread=0.15),
        footprint=(Box(110.0, 260.0, -5.0, 10.0), Box(315.0, 45.0, -20.0, 30.0)),
        subset_of=None, astrometry_sigma=0.08, id_style="iauname"),
    SurveyOptics(
        "ukidss", "gz_ukidss", ("Y", "J", "K"), psf_fwhm=(0.95, 0.9, 0.85), pixel_scale=0.4,
        cutout=Cutout(np.inf, 0.02, 0.0),
        # Vega Y 20.2, J 20.0, K 18.2 in AB (+0.634, +0.938, +1.900).
        depth=r_equivalent(("Y", "J", "K"), (20.83, 20.94, 20.10)),
        # GZ UKIDSS volunteers give "almost no bar fractions above 0.7" (galaxy-zoo.md §4),
        # though these images show bars at least as plainly as SDSS's. In near-infrared
        # composites a bar has no colour against its disk and the faint disk barely shows, so
        # at most 40% call even a plain bar a bar, and few call one where none shows (fitted
        # to §4's UKIDSS-GZ2 bar agreement; a behaviour, not an optic).
        behaviour=Behaviour(
            artifact_rate=0.07, featured_bias=-0.8, concentration=25.0,
            features=MappingProxyType({"bar": Answering(floor=0.03, ceiling=0.4),
                                       "spiral": Answering(floor=0.08, ceiling=0.95)})),
        volunteers=Volunteers(((1.0, 40.0),), spread=0.15),
        footprint=(Box(120.0, 240.0, -3.0, 16.0), _STRIPE82), subset_of="sdss",
        astrometry_sigma=None, id_style="subject"),
)})

#: Every box any survey observes: the sky the population is drawn on.
SKY: tuple[Box, ...] = (_NGC, Box(315.0, 45.0, -20.0, 30.0))
