"""Simulated label statistics against the real ones (galaxy-zoo.md §4-§5).

Label means are computed as §5's were: canonical fractions with a question that got no votes
counted as 0. The two bar statistics of §4 (how UKIDSS volunteers' bars agree with GZ2's, and
how rare confident UKIDSS bars are) use only galaxies whose bar question got votes. Votes do
not need images (visibility is analytic), so thousands of galaxies take seconds.
`python -m benchmark.simulator.studies.calibration` prints the tables in docs/simulator.md.
"""

from __future__ import annotations

import argparse
from types import MappingProxyType
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ... import registry as R
from ..population import draw_population
from ..randomness import stream
from ..shifts import ALL, parse_shifts, shifted_optics
from ..votes import canonical_fractions
from ..writer import observe_survey

#: (mean, std, zero share) of real labels per feature: UKIDSS n=70,845, SDSS n=1,000.
REAL: Mapping[str, Mapping[str, tuple[float, float, float]]] = MappingProxyType({
    "ukidss": MappingProxyType({
        "smooth": (0.637, 0.211, 0.009), "featured_or_disk": (0.234, 0.213, 0.033),
        "artifact": (0.129, 0.094, 0.029), "edge_on_yes": (0.267, 0.303, 0.379),
        "edge_on_no": (0.699, 0.326, 0.064), "bar_yes": (0.113, 0.204, 0.660),
        "bar_no": (0.823, 0.295, 0.077), "spiral_yes": (0.208, 0.298, 0.559),
        "spiral_no": (0.728, 0.350, 0.096)}),
    "sdss": MappingProxyType({
        "smooth": (0.514, 0.363, 0.120), "featured_or_disk": (0.446, 0.381, 0.006),
        "artifact": (0.041, 0.042, 0.269), "edge_on_yes": (0.099, 0.191, 0.534),
        "edge_on_no": (0.895, 0.203, 0.012), "bar_yes": (0.201, 0.298, 0.483),
        "bar_no": (0.786, 0.310, 0.030), "spiral_yes": (0.358, 0.424, 0.497),
        "spiral_no": (0.630, 0.428, 0.178)}),
})
#: Features whose simulated means the acceptance test holds within TOLERANCE of the real.
CALIBRATED: tuple[str, ...] = ("smooth", "featured_or_disk", "artifact", "bar_yes", "spiral_yes")
TOLERANCE = 0.08

# galaxy-zoo.md §4: UKIDSS volunteers give "bar fractions that correlate with GZ2's at
# Spearman rho ~ 0.61" and "almost no bar fractions above 0.7". Measured on galaxies seen by
# both surveys whose bar question got votes in both. The tolerance is about 2.5 times the
# spread of rho between seeds on the ~500 such galaxies of a 3000-galaxy draw (sd 0.04), and
# "almost none" is read as under 1.5% of the UKIDSS galaxies asked about a bar.
#: Real Spearman rho of a galaxy's UKIDSS bar_yes against its SDSS (GZ2) bar_yes.
BAR_AGREEMENT = 0.61
BAR_AGREEMENT_TOLERANCE = 0.1
#: A bar_yes fraction above this is a confident bar.
CONFIDENT_BAR = 0.7
#: Largest share of the UKIDSS galaxies asked about a bar that may have a confident bar.
CONFIDENT_BAR_MAX_SHARE = 0.015


def _fractions(n: int, seed: int, shifts: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Per survey of REAL, canonical fractions (NaN where not asked) indexed by galaxy."""
    pop = draw_population(n, stream(seed, "population"))
    optics = shifted_optics(parse_shifts(shifts))
    releases = {survey: observe_survey(pop, optics[survey], seed) for survey in REAL}
    return {survey: canonical_fractions(r.table, r.optics.scheme).set_axis(r.index)
            for survey, r in releases.items()}


def label_statistics(n: int = 3000, seed: int = 0,
                     shifts: Iterable[str] = (ALL,)) -> pd.DataFrame:
    """One row per (survey, benchmark feature): simulated and real mean, std, zero share."""
    rows = []
    for survey, fractions in _fractions(n, seed, shifts).items():
        real = REAL[survey]
        for feature in R.BENCHMARK_FEATURES:
            values = fractions[feature].fillna(0.0).to_numpy()
            mean, std, zero = real[feature]
            rows.append({"survey": survey, "feature": feature, "n": len(values),
                         "mean": values.mean(), "real_mean": mean,
                         "std": values.std(), "real_std": std,
                         "zero_share": np.mean(values == 0), "real_zero_share": zero})
    return pd.DataFrame(rows)


def bar_statistics(n: int = 3000, seed: int = 0,
                   shifts: Iterable[str] = (ALL,)) -> pd.DataFrame:
    """The §4 bar statistics, simulated, with the target each must meet.

    Rows: `bar_rho`, the Spearman rho of bar_yes, UKIDSS against SDSS, on galaxies whose bar
    question both asked; per survey `confident_bars`, the share of the galaxies it asked about
    a bar with bar_yes above CONFIDENT_BAR (rarer in UKIDSS than in SDSS, SIMULATOR.md)."""
    bars = {s: f["bar_yes"].dropna() for s, f in _fractions(n, seed, shifts).items()}
    both = bars["ukidss"].index.intersection(bars["sdss"].index)
    rows = [{"statistic": "bar_rho", "survey": "ukidss vs sdss", "n": len(both),
             "simulated": float(spearmanr(bars["ukidss"][both], bars["sdss"][both]).statistic),
             "target": f"{BAR_AGREEMENT} +- {BAR_AGREEMENT_TOLERANCE}"}]
    targets = {"ukidss": f"< {CONFIDENT_BAR_MAX_SHARE}", "sdss": "more than UKIDSS"}
    rows += [{"statistic": "confident_bars", "survey": survey, "n": len(bar),
              "simulated": float(np.mean(bar > CONFIDENT_BAR)), "target": targets[survey]}
             for survey, bar in bars.items()]
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(label_statistics(args.n, args.seed).to_markdown(index=False, floatfmt=".3f"))
    print()
    print(bar_statistics(args.n, args.seed).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
