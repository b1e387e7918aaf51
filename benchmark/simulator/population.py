"""The physical galaxies: where they are on the sky and what they are made of.

One draw of the population is shared by all surveys, so the same galaxy is seen by SDSS,
DECaLS and UKIDSS wherever their footprints overlap. Sizes are in units of the galaxy's
half-light radius R50 (arcsec for `r50` itself), angles in degrees, fluxes as r-band fractions
of the galaxy's total light (colours per band come from `bands`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from .surveys import SKY, SURVEY_OPTICS

#: Knots (star-forming clumps) per galaxy; unused ones have zero weight.
MAX_KNOTS = 6
#: Intrinsic thickness of a disk seen exactly edge-on.
DISK_THICKNESS = 0.12


@dataclass(frozen=True)
class Kind:
    """A morphological kind; `category` is what Galaxy Zoo's first question is about."""

    name: str
    category: str  # smooth | disk | odd | artifact
    share: float


KINDS: tuple[Kind, ...] = (
    Kind("elliptical", "smooth", 0.42),
    Kind("disk", "disk", 0.512),
    Kind("merger", "odd", 0.03),
    Kind("irregular", "odd", 0.03),
    Kind("star", "artifact", 0.004),
    Kind("trail", "artifact", 0.004),
)
KIND_INDEX: Mapping[str, int] = MappingProxyType({k.name: i for i, k in enumerate(KINDS)})


@dataclass
class Population:
    """Column arrays, one row per physical galaxy (the truth table)."""

    kind: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    mag_r: np.ndarray
    r50: np.ndarray
    concentration: np.ndarray  # R90 / R50
    pa: np.ndarray
    inclination: np.ndarray
    disk_q: np.ndarray  # projected axis ratio of the disk
    bulge_frac: np.ndarray
    bulge_n: np.ndarray
    bulge_re: np.ndarray
    bulge_q: np.ndarray
    disk_frac: np.ndarray
    disk_h: np.ndarray
    bar_frac: np.ndarray
    bar_len: np.ndarray
    bar_q: np.ndarray
    bar_angle: np.ndarray  # in the disk plane, from the major axis
    arm_frac: np.ndarray
    arm_count: np.ndarray
    arm_pitch: np.ndarray
    arm_phase: np.ndarray
    knot_frac: np.ndarray
    knot_r: np.ndarray  # (n, MAX_KNOTS), disk plane
    knot_theta: np.ndarray  # (n, MAX_KNOTS), radians
    knot_weight: np.ndarray  # (n, MAX_KNOTS), rows sum to 1 where knot_frac > 0
    dust_tau: np.ndarray  # V-band optical depth of the mid-plane dust lane
    companion_frac: np.ndarray
    companion_sep: np.ndarray
    companion_angle: np.ndarray
    star_frac: np.ndarray
    star_x: np.ndarray
    star_y: np.ndarray
    trail_frac: np.ndarray
    trail_angle: np.ndarray
    trail_offset: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def category(self) -> np.ndarray:
        return np.array([k.category for k in KINDS])[self.kind]

    @property
    def r90(self) -> np.ndarray:
        return self.r50 * self.concentration

    def take(self, index: np.ndarray) -> "Population":
        return Population(**{f.name: getattr(self, f.name)[index]
                             for f in dataclasses.fields(self)})

    def in_survey(self, survey: str) -> np.ndarray:
        """Which galaxies the survey observed (its footprint, within its parent's)."""
        optics = SURVEY_OPTICS[survey]
        seen = optics.in_footprint(self.ra, self.dec)
        if optics.subset_of is not None:
            seen &= self.in_survey(optics.subset_of)
        return seen

    def to_frame(self) -> pd.DataFrame:
        """Flat table: per-knot arrays become list columns, kinds their names."""
        data = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            data[f.name] = list(value) if value.ndim == 2 else value
        data["kind"] = np.array([k.name for k in KINDS])[self.kind]
        data.update(category=self.category, r90=self.r90)
        return pd.DataFrame(data)


def _sky_positions(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform on the sphere within the (disjoint) boxes of the simulated sky."""
    areas = np.array([b.area for b in SKY])
    box = rng.choice(len(SKY), size=n, p=areas / areas.sum())
    ra_min = np.array([b.ra_min for b in SKY])[box]
    width = np.array([b.ra_width for b in SKY])[box]
    sin_lo = np.sin(np.radians([b.dec_min for b in SKY]))[box]
    sin_hi = np.sin(np.radians([b.dec_max for b in SKY]))[box]
    ra = (ra_min + width * rng.random(n)) % 360.0
    dec = np.degrees(np.arcsin(sin_lo + (sin_hi - sin_lo) * rng.random(n)))
    return ra, dec


def _magnitudes(n: int, rng: np.random.Generator, bright: float = 13.0,
                faint: float = 17.0) -> np.ndarray:
    """Euclidean number counts N(<m) ~ 10^(0.6 m) between the sample's limits."""
    lo, hi = 10 ** (0.6 * bright), 10 ** (0.6 * faint)
    return np.log10(lo + (hi - lo) * rng.random(n)) / 0.6


def draw_population(n: int, rng: np.random.Generator) -> Population:
    """Draw `n` galaxies: positions, kinds and structural parameters."""
    shares = np.array([k.share for k in KINDS])
    kind = rng.choice(len(KINDS), size=n, p=shares / shares.sum())
    category = np.array([k.category for k in KINDS])[kind]
    ra, dec = _sky_positions(n, rng)
    mag_r = _magnitudes(n, rng)
    u = rng.random
    # Mergers and artifacts happen to galaxies of either type; irregulars are disk-like.
    disky = (category == "disk") | (kind == KIND_INDEX["irregular"]) | (
        (category != "smooth") & (kind != KIND_INDEX["irregular"]) & (u(n) < 0.5))
    disky &= category != "smooth"

    r50 = 10 ** (0.38 - 0.17 * (mag_r - 16.0) + rng.normal(0.0, 0.13, n))
    r50 *= np.where(disky, 1.0, 0.8)
    inclination = np.degrees(np.arccos(u(n)))  # random orientations
    cos_i = np.cos(np.radians(inclination))
    disk_q = np.sqrt(cos_i**2 + DISK_THICKNESS**2 * (1 - cos_i**2))

    bulge_frac = np.where(disky, rng.beta(1.6, 4.0, n), 1.0 - 0.3 * u(n) ** 2)
    bulge_n = np.where(disky, 1.0 + 3.0 * u(n), 2.5 + 3.0 * u(n))
    bulge_re = np.where(disky, 0.15 + 0.3 * u(n), 1.0)
    bulge_q = np.where(disky, np.maximum(disk_q, 0.6 + 0.4 * u(n)), 0.45 + 0.55 * u(n))
    # The disk is larger than the whole galaxy's R50 by as much as the bulge shrinks the latter.
    disk_h = np.where(disky, (0.95 + 0.3 * u(n)) * (1.0 + 0.8 * bulge_frac), 1.4) / 1.678

    has_bar = disky & (u(n) < 0.42)
    bar_frac = np.where(has_bar, 0.04 + 0.14 * u(n), 0.0)
    bar_len = 0.45 + 0.6 * u(n)
    bar_q = 0.2 + 0.2 * u(n)
    bar_angle = 180.0 * u(n)

    has_arms = disky & (u(n) < 0.8)
    arm_frac = np.where(has_arms, 0.06 + 0.26 * u(n), 0.0)
    arm_count = rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.03, 0.55, 0.2, 0.12, 0.06, 0.04])
    arm_pitch = 8.0 + 27.0 * u(n)
    arm_phase = 2 * np.pi * u(n)

    irregular = kind == KIND_INDEX["irregular"]
    has_knots = (has_arms & (u(n) < 0.7)) | irregular
    knot_frac = np.where(irregular, 0.15 + 0.2 * u(n), np.where(has_knots, 0.01 + 0.05 * u(n), 0))
    knot_r = 0.4 + 1.4 * rng.random((n, MAX_KNOTS))
    # On the ridge of an arm: theta = (phase + 2 pi j) / m + ln(r / h) / tan(pitch).
    arm_index = rng.integers(0, 6, (n, MAX_KNOTS)) % arm_count[:, None]
    on_arm = ((arm_phase[:, None] + 2 * np.pi * arm_index) / arm_count[:, None]
              + np.log(knot_r / disk_h[:, None]) / np.tan(np.radians(arm_pitch))[:, None])
    knot_theta = np.where(irregular[:, None], 2 * np.pi * rng.random((n, MAX_KNOTS)), on_arm)
    knot_theta = np.mod(knot_theta, 2 * np.pi)
    n_knots = rng.integers(2, MAX_KNOTS + 1, n)
    knot_weight = rng.random((n, MAX_KNOTS)) * (np.arange(MAX_KNOTS) < n_knots[:, None])
    knot_weight /= knot_weight.sum(axis=1, keepdims=True)
    arm_frac = np.where(irregular, 0.0, arm_frac)
    bar_frac = np.where(irregular, 0.0, bar_frac)

    dust_tau = np.where(disky & (u(n) < 0.7), 0.5 + 2.0 * u(n), 0.0)

    merger = kind == KIND_INDEX["merger"]
    companion_frac = np.where(merger, 0.2 + 0.3 * u(n), 0.0)
    companion_sep = 0.9 + 1.4 * u(n)
    companion_angle = 360.0 * u(n)

    star = kind == KIND_INDEX["star"]
    star_frac = np.where(star, 0.5 + 0.45 * u(n), 0.0)
    star_x, star_y = rng.normal(0.0, 0.3, (2, n))
    trail = kind == KIND_INDEX["trail"]
    trail_frac = np.where(trail, 0.15 + 0.35 * u(n), 0.0)
    trail_angle = 180.0 * u(n)
    trail_offset = rng.normal(0.0, 0.8, n)

    extra = bar_frac + arm_frac + knot_frac + companion_frac + star_frac + trail_frac
    galaxy = np.clip(1.0 - extra, 0.05, None)
    bulge_frac = bulge_frac * galaxy
    disk_frac = np.where(disky | (category == "smooth"), galaxy - bulge_frac, 0.0)
    norm = bulge_frac + disk_frac + extra
    light = np.clip(bulge_frac / norm * np.clip((bulge_n - 1) / 3, 0, 1), 0, 1)
    concentration = 2.3 + 1.0 * light

    return Population(
        kind=kind.astype(np.int8), ra=ra, dec=dec, mag_r=mag_r, r50=r50,
        concentration=concentration, pa=180.0 * u(n), inclination=inclination, disk_q=disk_q,
        bulge_frac=bulge_frac / norm, bulge_n=bulge_n, bulge_re=bulge_re, bulge_q=bulge_q,
        disk_frac=disk_frac / norm, disk_h=disk_h, bar_frac=bar_frac / norm, bar_len=bar_len,
        bar_q=bar_q, bar_angle=bar_angle, arm_frac=arm_frac / norm,
        arm_count=arm_count.astype(np.int8), arm_pitch=arm_pitch, arm_phase=arm_phase,
        knot_frac=knot_frac / norm, knot_r=knot_r, knot_theta=knot_theta,
        knot_weight=knot_weight, dust_tau=dust_tau, companion_frac=companion_frac / norm,
        companion_sep=companion_sep, companion_angle=companion_angle,
        star_frac=star_frac / norm, star_x=star_x, star_y=star_y,
        trail_frac=trail_frac / norm, trail_angle=trail_angle, trail_offset=trail_offset)
