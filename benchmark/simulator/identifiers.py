"""Upstream identifiers and coordinates, in each release's own style.

SDSS galaxies carry 18-digit dr7objids, DECaLS galaxies IAU names built from their measured
coordinates, UKIDSS galaxies 24-hex-character Zooniverse subject ids (and no coordinates).
Measured coordinates scatter around the truth by the survey's astrometric error, so a sky
cross-match (not a shared key) is what recovers identity, as with the real releases.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

#: Astrometric errors are drawn per coordinate and cut at this many arcsec, so two surveys'
#: positions of one galaxy always lie well within a 1 arcsec match radius.
MAX_OFFSET = 0.35

_DR7_FIRST, _DR7_LAST = 587_722_981_736_000_000, 588_848_901_000_000_000


def observed_coordinates(ra: np.ndarray, dec: np.ndarray, sigma: float,
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """True positions (degrees) plus a Gaussian astrometric error of `sigma` arcsec."""
    d_ra, d_dec = np.clip(rng.normal(0.0, sigma, (2, len(ra))), -MAX_OFFSET, MAX_OFFSET) / 3600
    return (ra + d_ra / np.cos(np.radians(dec))) % 360.0, dec + d_dec


def dr7objids(ra: np.ndarray, dec: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unique 18-digit SDSS-like object ids, increasing with right ascension."""
    n = len(ra)
    gaps = rng.integers(1, max(2, (_DR7_LAST - _DR7_FIRST) // max(n, 1)), n)
    ids = _DR7_FIRST + np.cumsum(gaps)
    out = np.empty(n, dtype=np.int64)
    out[np.argsort(ra, kind="stable")] = ids
    return out.astype(str).astype(object)


def iaunames(ra: np.ndarray, dec: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """IAU names `JHHMMSS.ss+DDMMSS.s` of the given positions (digits truncated)."""
    centi_sec = np.floor(ra / 15.0 * 360_000).astype(np.int64)  # RA in 0.01 s of time
    deci_arcsec = np.floor(np.abs(dec) * 36_000).astype(np.int64)  # |Dec| in 0.1 arcsec
    names = [
        f"J{c // 360_000:02d}{c // 6000 % 60:02d}{c % 6000 // 100:02d}.{c % 100:02d}"
        f"{'-' if s < 0 else '+'}{d // 36_000:02d}{d // 600 % 60:02d}{d % 600 // 10:02d}.{d % 10}"
        for c, d, s in zip(centi_sec, deci_arcsec, dec)
    ]
    return np.array(names, dtype=object)


def subject_ids(ra: np.ndarray, dec: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Zooniverse-like subject ids: a MongoDB ObjectId (4-byte time stamp, 5 bytes of one
    upload batch, 3-byte counter), unique by their counter."""
    n = len(ra)
    stamps = np.sort(rng.integers(1_356_998_400, 1_388_534_400, n))  # during 2013
    batch = rng.bytes(5).hex()
    start = int(rng.integers(0, 2**24 - n - 1))
    order = rng.permutation(n)
    return np.array([f"{int(t):08x}{batch}{start + i:06x}" for t, i in zip(stamps, order)],
                    dtype=object)


ID_STYLES: Mapping[str, Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]] = {
    "dr7objid": dr7objids, "iauname": iaunames, "subject": subject_ids,
}
