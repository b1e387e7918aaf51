"""Photometric bands and the colours of the stellar populations seen through them.

Why a table: the wavelength shift between optical and near-infrared surveys is nothing but a
different choice of bands, so colours (old bulges red, young arms blue) and dust extinction
are properties of a band, looked up here by every renderer and visibility measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

#: Spectral populations a component can be made of (rows of `Band.colour`).
POPULATIONS: tuple[str, ...] = ("old", "disk", "young", "flat")


@dataclass(frozen=True)
class Band:
    """One filter: AB colour (m_band - m_r) of each population, and dust A_band / A_V."""

    name: str
    wavelength_um: float
    colour: Mapping[str, float]
    extinction: float

    def __post_init__(self) -> None:
        if set(self.colour) != set(POPULATIONS):
            raise ValueError(f"band {self.name}: colours must cover {POPULATIONS}")


def _band(name: str, wavelength: float, old: float, disk: float, young: float,
          extinction: float) -> Band:
    return Band(name, wavelength,
                MappingProxyType({"old": old, "disk": disk, "young": young, "flat": 0.0}),
                extinction)


# Old populations (ellipticals, bulges, bars) have r-K_AB ~ 1.1; star-forming arms and knots
# are nearly flat in f_nu, so they fade relative to the bulge towards the near-infrared.
# Extinction follows a Cardelli-like law: dust lanes nearly vanish in K.
BANDS: Mapping[str, Band] = MappingProxyType({b.name: b for b in (
    _band("g", 0.48, old=0.78, disk=0.50, young=0.15, extinction=1.20),
    _band("r", 0.62, old=0.00, disk=0.00, young=0.00, extinction=0.87),
    _band("i", 0.76, old=-0.40, disk=-0.25, young=-0.08, extinction=0.65),
    _band("z", 0.91, old=-0.72, disk=-0.45, young=-0.10, extinction=0.48),
    _band("Y", 1.03, old=-0.95, disk=-0.60, young=-0.10, extinction=0.38),
    _band("J", 1.25, old=-1.10, disk=-0.70, young=-0.08, extinction=0.28),
    _band("K", 2.20, old=-1.10, disk=-0.70, young=0.05, extinction=0.12),
)})
