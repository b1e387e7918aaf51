"""Volunteer votes from what a survey's images show, walked down the Galaxy Zoo tree.

For each question an answer model turns the visibility measures (`visibility`) and the
campaign's volunteer behaviour into answer probabilities; each galaxy's answer shares are then
drawn from a Dirichlet around them (volunteers disagree) and its votes from a multinomial
(Dirichlet-multinomial, as Walmsley et al. 2022 model Galaxy Zoo). A child question gets
exactly the votes of the parent answer that leads to it. Releases that split a canonical
answer (GZ DECaLS: bar strong/weak, bulge moderate/large) split its probability with `SPLITS`.
`vote` also returns the canonical answer probabilities each galaxy's votes were drawn from
(the Dirichlet draw, conditional on the question being reached): what a perfect predictor of
the labels would predict, against which vote-noise ceilings are validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from .. import registry as R
from .surveys import Behaviour, SurveyOptics
from .visibility import Visibility

#: Questions asked after any of several answers (the registry's parent-less 'odd').
ASKED_AFTER: Mapping[str, tuple[str, ...]] = {"odd": ("smooth", "featured_or_disk")}
#: Share of 'featured' votes a plain smooth galaxy still gets (volunteers' confusion).
FEATURED_FLOOR = 0.14
#: How strongly each visible feature makes a galaxy look featured.
FEATURED_WEIGHTS: Mapping[str, float] = {
    "arms": 1.0, "bar": 0.5, "edge_on": 0.9, "knots": 0.7, "companion": 0.8, "dust": 0.5,
    "disk": 0.45,
}
#: Galaxy S/N at which an image is half 'clear'; murkier images draw artifact and edge-on
#: votes from volunteers who cannot make out the galaxy's structure.
CLEAR_SNR = 300.0

AnswerModel = Callable[[Visibility, Behaviour], np.ndarray]


def _any_of(*visible: np.ndarray) -> np.ndarray:
    """Probability of noticing at least one of independently visible features."""
    missed = np.ones_like(visible[0])
    for v in visible:
        missed = missed * (1.0 - v)
    return 1.0 - missed


def _ordinal(position: np.ndarray, answers: int, spread: np.ndarray | float) -> np.ndarray:
    """Probabilities over ordered answers 0..k-1 peaking at `position` (0 = first answer)."""
    steps = np.arange(answers)[None, :]
    logits = -((steps - np.asarray(position)[:, None]) ** 2) / (
        2.0 * np.broadcast_to(spread, np.shape(position))[:, None] ** 2)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def _yes_no(yes: np.ndarray) -> np.ndarray:
    return np.stack([yes, 1.0 - yes], axis=1)


def _murky(v: Visibility) -> np.ndarray:
    return CLEAR_SNR**2 / (v.snr**2 + CLEAR_SNR**2)


def _smooth_or_featured(v: Visibility, b: Behaviour) -> np.ndarray:
    artifact = _any_of(np.full_like(v.snr, b.artifact_rate), _any_of(v.star, v.trail),
                       0.08 * _murky(v), 0.08 * (1.0 - v.resolved))
    evidence = _any_of(*(w * getattr(v, name) for name, w in FEATURED_WEIGHTS.items()))
    featured = FEATURED_FLOOR + (1.0 - FEATURED_FLOOR) * evidence
    featured = 1.0 / (1.0 + np.exp(-(np.log(featured / (1.0 - featured)) + b.featured_bias)))
    return np.stack([(1 - artifact) * (1 - featured), (1 - artifact) * featured, artifact], 1)


def _edge_on(v: Visibility, b: Behaviour) -> np.ndarray:
    # In a murky image an elongated galaxy without visible face-on structure could be edge-on.
    unsure = _murky(v) * (1.0 - _any_of(v.arms, v.bar, v.knots)) * np.clip(
        (0.9 - v.axis_ratio) / 0.4, 0.0, 1.0)
    return _yes_no(0.03 + 0.94 * _any_of(v.edge_on, 0.5 * v.dust, 0.6 * unsure))


def _bar(v: Visibility, b: Behaviour) -> np.ndarray:
    return _yes_no(b.features["bar"].yes(v.bar))


def _spiral(v: Visibility, b: Behaviour) -> np.ndarray:
    return _yes_no(b.features["spiral"].yes(v.arms))


def _bulge_size(v: Visibility, b: Behaviour) -> np.ndarray:
    return _ordinal(3.0 * v.bulge_share**0.6, 4, 0.7)


def _odd(v: Visibility, b: Behaviour) -> np.ndarray:
    return _yes_no(0.06 + 0.88 * _any_of(v.companion, 0.6 * v.knots, 0.3 * v.dust, 0.5 * v.trail))


def _roundness(v: Visibility, b: Behaviour) -> np.ndarray:
    return _ordinal(np.clip((1.0 - v.axis_ratio) / 0.35, 0.0, 2.0), 3, 0.6)


def _edge_on_bulge(v: Visibility, b: Behaviour) -> np.ndarray:
    rounded = v.bulge_share * (1.0 - 0.7 * v.boxy)
    boxy = 0.05 + 0.6 * v.bulge_share * v.boxy
    none = 0.05 + (1.0 - v.bulge_share) ** 2
    weights = np.stack([rounded, boxy, none], axis=1)
    return weights / weights.sum(axis=1, keepdims=True)


def _winding(v: Visibility, b: Behaviour) -> np.ndarray:
    position = np.clip((v.arm_pitch - 8.0) / 13.5, 0.0, 2.0)  # tight < ~15 deg < loose ~ 25
    return _ordinal(position, 3, 0.45 + 1.0 * (1.0 - v.arms))


def _arm_count(v: Visibility, b: Behaviour) -> np.ndarray:
    counted = _ordinal(np.minimum(v.arm_count, 5) - 1.0, 5, 0.35 + 1.0 * (1.0 - v.arms))
    cant_tell = 0.08 + 0.6 * (1.0 - v.arms)
    return np.concatenate([counted * (1.0 - cant_tell)[:, None], cant_tell[:, None]], axis=1)


ANSWER_MODELS: Mapping[str, AnswerModel] = {
    "smooth_or_featured": _smooth_or_featured, "edge_on": _edge_on, "bar": _bar,
    "spiral": _spiral, "bulge_size": _bulge_size, "odd": _odd, "roundness": _roundness,
    "edge_on_bulge": _edge_on_bulge, "spiral_winding": _winding,
    "spiral_arm_count": _arm_count,
}

#: How a canonical answer's probability divides among the upstream answers that sum to it.
SPLITS: Mapping[str, Callable[[Visibility], np.ndarray]] = {
    "bar_yes": lambda v: _yes_no(np.clip(0.15 + 0.7 * v.bar, 0.0, 1.0)),  # strong, weak
    "bulge_obvious": lambda v: _yes_no(np.clip(0.9 - 1.4 * v.bulge_share, 0.05, 0.95)),
}


def _upstream_probabilities(question: R.Question, probs: np.ndarray, scheme: R.NamingScheme,
                            v: Visibility) -> list[np.ndarray]:
    """Per canonical answer, (N, k) probabilities of its k upstream answers."""
    parts = []
    for j, answer in enumerate(question.answers):
        k = len(scheme.answers[answer])
        share = SPLITS[answer](v) if k > 1 else np.ones((len(probs), 1))
        parts.append(probs[:, j:j + 1] * share)
    return parts


@dataclass(frozen=True)
class Ballots:
    """A survey's votes and the answer probabilities they were drawn from, row for row."""

    columns: pd.DataFrame  # upstream vote columns, as `cast_votes` returns them
    #: canonical feature -> the probability a volunteer who reached its question gives that
    #: answer (upstream parts summed, e.g. bar strong + weak); every galaxy, asked or not.
    probabilities: pd.DataFrame


def vote(v: Visibility, optics: SurveyOptics, rng: np.random.Generator) -> Ballots:
    """The survey's votes (see `cast_votes`) with the probabilities they were drawn from."""
    scheme, behaviour = optics.scheme, optics.behaviour
    volunteers = optics.volunteers.draw(len(v.snr), rng)
    counts: dict[str, np.ndarray] = {}
    columns: dict[str, np.ndarray] = {}
    probabilities: dict[str, np.ndarray] = {}
    for question in R.QUESTIONS:
        if question.name not in scheme.questions:
            continue
        askers = ASKED_AFTER.get(question.name) or (question.parent,)
        total = volunteers if askers == (None,) else sum(counts[a] for a in askers)
        parts = _upstream_probabilities(
            question, ANSWER_MODELS[question.name](v, behaviour), scheme, v)
        mean = np.concatenate(parts, axis=1)
        shares = rng.standard_gamma(behaviour.concentration * mean + 1e-3)
        shares /= shares.sum(axis=1, keepdims=True)
        votes = rng.multinomial(total, shares)
        asked = total > 0
        start = 0
        for answer, part in zip(question.answers, parts):
            stop = start + part.shape[1]
            counts[answer] = votes[:, start:stop].sum(axis=1)
            probabilities[answer] = shares[:, start:stop].sum(axis=1)
            names = zip(scheme.count_columns(answer), scheme.fraction_columns(answer))
            for (count_name, fraction_name), col in zip(names, range(start, stop)):
                columns[count_name] = votes[:, col].astype(np.int32)
                fraction = np.where(asked, votes[:, col] / np.maximum(total, 1), np.nan)
                columns[fraction_name] = fraction.astype(np.float32)
            start = stop
        columns[scheme.total_column(question.name)] = total.astype(np.int32)
    return Ballots(pd.DataFrame(columns), pd.DataFrame(probabilities))


def cast_votes(v: Visibility, optics: SurveyOptics, rng: np.random.Generator) -> pd.DataFrame:
    """Upstream vote columns of the survey's release: counts (int32), fractions (float32,
    NaN where the question got no votes) and total votes (int32) per question."""
    return vote(v, optics, rng).columns


def canonical_fractions(votes: pd.DataFrame, scheme: R.NamingScheme,
                        features: tuple[str, ...] = R.BENCHMARK_FEATURES) -> pd.DataFrame:
    """Canonical fractions (upstream answers summed; NaN where not asked) of a release."""
    return pd.DataFrame({f: votes[list(scheme.fraction_columns(f))].sum(axis=1, min_count=1)
                         for f in features})
