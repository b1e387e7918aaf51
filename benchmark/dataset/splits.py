"""Deterministic, leakage-free splits from a salted hash of each galaxy's `group_id`.

Rule: a group with a UKIDSS member goes to `test` or (a small share) `validation`; its UKIDSS
rows get that split and its optical rows the paired split of the same share (`paired_test`,
`paired_validation`), so no galaxy of the UKIDSS test is in any training split, and the optical
`validation`/`test` splits are i.i.d. samples of the same population as `train`. Every other
group is split train/validation/test by the optical shares. The hash depends only on the salt
and the group id: a galaxy keeps its split when others are added.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import yaml

from .. import registry as R
from ..errors import SommelierError

DEFINITION = Path(__file__).resolve().parent / "definition" / "benchmark.yaml"


@dataclass(frozen=True)
class SplitDefinition:
    """The frozen split definition of one dataset version (`definition/benchmark.yaml`)."""

    version: str
    salt: str
    optical_splits: Mapping[str, float]
    ukidss_validation: float
    match_radius_arcsec: float
    min_first_question_votes: int
    rows_per_shard: int
    license: str

    @classmethod
    def load(cls, path: Path = DEFINITION) -> "SplitDefinition":
        try:
            raw = yaml.safe_load(path.read_text())
            definition = cls(**raw)
        except (OSError, yaml.YAMLError, TypeError) as exc:
            raise SommelierError(f"split definition {path}: {exc}") from exc
        if abs(sum(definition.optical_splits.values()) - 1) > 1e-9:
            raise SommelierError(f"split definition {path}: optical_splits must sum to 1")
        return definition


def unit_hash(salt: str, keys: pd.Series) -> np.ndarray:
    """A number in [0, 1) per key, from sha256 of `salt:key`: stable across runs and machines."""
    return np.array([int.from_bytes(hashlib.sha256(f"{salt}:{k}".encode()).digest()[:8], "big")
                     for k in keys], dtype="float64") / 2.0**64


def assign_splits(rows: pd.DataFrame, definition: SplitDefinition) -> pd.Series:
    """Split name of every row (columns `group_id`, `survey`)."""
    ood = {s for s, survey in R.SURVEYS.items() if survey.ood}
    groups = pd.Series(rows["group_id"].unique())
    u = pd.Series(unit_hash(definition.salt, groups), index=groups)
    ood_groups = set(rows.loc[rows["survey"].isin(ood), "group_id"])
    names = list(definition.optical_splits)
    edges = np.cumsum(list(definition.optical_splits.values()))
    optical = pd.Series(np.array(names)[np.searchsorted(edges, u.to_numpy(), side="right").clip(max=len(names) - 1)],
                        index=groups)
    held_out = pd.Series(np.where(u < definition.ukidss_validation, "validation", "test"), index=groups)
    is_ood_group = groups.isin(ood_groups).to_numpy()
    per_group = optical.where(~is_ood_group, held_out)
    split = rows["group_id"].map(per_group)
    paired = rows["group_id"].isin(ood_groups) & ~rows["survey"].isin(ood)
    return split.where(~paired, split.map(R.PAIRED_SPLIT))
