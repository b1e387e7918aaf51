"""Simulated label statistics against the real ones (galaxy-zoo.md §5).

Statistics are computed as §5's were: canonical fractions with a question that got no votes
counted as 0. Votes do not need images (visibility is analytic), so thousands of galaxies
take seconds. `python -m benchmark.simulator.calibration` prints the table in docs/simulator.md.
"""

from __future__ import annotations

import argparse
from types import MappingProxyType
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .. import registry as R
from .population import draw_population
from .randomness import stream
from .shifts import ALL, parse_shifts, shifted_optics
from .votes import canonical_fractions
from .writer import observe_survey

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


def label_statistics(n: int = 3000, seed: int = 0,
                     shifts: Iterable[str] = (ALL,)) -> pd.DataFrame:
    """One row per (survey, benchmark feature): simulated and real mean, std, zero share."""
    pop = draw_population(n, stream(seed, "population"))
    optics = shifted_optics(parse_shifts(shifts))
    rows = []
    for survey, real in REAL.items():
        release = observe_survey(pop, optics[survey], seed)
        fractions = canonical_fractions(release.table, optics[survey].scheme).fillna(0.0)
        for feature in R.BENCHMARK_FEATURES:
            values = fractions[feature].to_numpy()
            mean, std, zero = real[feature]
            rows.append({"survey": survey, "feature": feature, "n": len(values),
                         "mean": values.mean(), "real_mean": mean,
                         "std": values.std(), "real_std": std,
                         "zero_share": np.mean(values == 0), "real_zero_share": zero})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    table = label_statistics(args.n, args.seed)
    print(table.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
