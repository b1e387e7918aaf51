"""The domain shifts between surveys, each switchable on its own.

A shift is a set of `SurveyOptics` fields. Switching it off gives every survey the reference
survey's (SDSS) values for those fields, so the surveys then differ only in the shifts left on;
this is what lets a user ask which shift hurts a model. Footprints, the number of volunteers
and each release's answer scheme are facts of the campaigns, not shifts, and always stay.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping

from ..errors import SommelierError
from .surveys import REFERENCE, SURVEY_OPTICS, SurveyOptics


@dataclass(frozen=True)
class Shift:
    name: str
    description: str
    fields: tuple[str, ...]


SHIFTS: Mapping[str, Shift] = MappingProxyType({s.name: s for s in (
    Shift("resolution", "pixel scale, PSF and cutout rule of each survey",
          ("psf_fwhm", "pixel_scale", "cutout")),
    Shift("noise", "depth: noise per channel relative to a galaxy's light", ("depth",)),
    Shift("wavelength", "bands (colours of bulge, arms, knots; dust)", ("bands",)),
    Shift("votes", "volunteer behaviour: artifact rate, featured bias, disagreement, how "
          "readily bars and spirals are called", ("behaviour",)),
)})

ALL = "all"
NONE = "none"


def parse_shifts(names: Iterable[str]) -> tuple[str, ...]:
    """Shift names as the user gave them -> the registry names switched on, in registry order.

    'all' switches every shift on, 'none' every one off; anything else must be a shift name.
    """
    wanted: set[str] = set()
    for name in names:
        if name == ALL:
            wanted.update(SHIFTS)
        elif name == NONE:
            continue
        elif name in SHIFTS:
            wanted.add(name)
        else:
            raise SommelierError(f"unknown shift {name!r}; choose from "
                                 f"{', '.join((*SHIFTS, ALL, NONE))}")
    return tuple(s for s in SHIFTS if s in wanted)


def shifted_optics(on: Iterable[str]) -> dict[str, SurveyOptics]:
    """Every survey's optics with the shifts not in `on` replaced by the reference's fields."""
    on = set(on)
    reference = SURVEY_OPTICS[REFERENCE]
    copied = [f for s in SHIFTS.values() if s.name not in on for f in s.fields]
    same = {f: getattr(reference, f) for f in copied}
    return {name: dataclasses.replace(optics, **same) for name, optics in SURVEY_OPTICS.items()}
