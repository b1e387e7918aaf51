"""The single source of truth for questions, features, naming schemes and surveys.

Every other module asks this one which features exist, which question each belongs to, where a
question sits in the Galaxy Zoo decision tree, how each upstream release names its columns and
which splits each survey has. Adding a survey or an upstream format is one new entry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class Question:
    """One decision-tree question; its answers are canonical feature names."""

    name: str
    answers: tuple[str, ...]
    parent: str | None  # the answer that leads to this question; None = asked of every galaxy
    text: str


QUESTIONS: tuple[Question, ...] = (
    Question("smooth_or_featured", ("smooth", "featured_or_disk", "artifact"), None,
             "Is the galaxy smooth, featured (or a disk), or a star/artifact?"),
    Question("edge_on", ("edge_on_yes", "edge_on_no"), "featured_or_disk",
             "Could this be a disk viewed edge-on?"),
    Question("bar", ("bar_yes", "bar_no"), "edge_on_no", "Is there a bar?"),
    Question("spiral", ("spiral_yes", "spiral_no"), "edge_on_no", "Is there a spiral arm pattern?"),
    Question("bulge_size",
             ("bulge_none", "bulge_just_noticeable", "bulge_obvious", "bulge_dominant"),
             "edge_on_no", "How prominent is the central bulge?"),
    # GZ2 asks 'anything odd?' of every galaxy that is not an artifact; no single parent answer.
    Question("odd", ("odd_yes", "odd_no"), None, "Is there anything odd?"),
    Question("roundness", ("round_completely", "round_in_between", "round_cigar"), "smooth",
             "How rounded is it?"),
    Question("edge_on_bulge",
             ("edge_on_bulge_rounded", "edge_on_bulge_boxy", "edge_on_bulge_none"),
             "edge_on_yes", "Does the edge-on galaxy have a bulge, and what shape?"),
    Question("spiral_winding", ("winding_tight", "winding_medium", "winding_loose"), "spiral_yes",
             "How tightly wound do the spiral arms appear?"),
    Question("spiral_arm_count",
             ("arms_1", "arms_2", "arms_3", "arms_4", "arms_more_than_4", "arms_cant_tell"),
             "spiral_yes", "How many spiral arms are there?"),
)

QUESTION_BY_NAME: Mapping[str, Question] = MappingProxyType({q.name: q for q in QUESTIONS})
QUESTION_OF_FEATURE: Mapping[str, str] = MappingProxyType(
    {answer: q.name for q in QUESTIONS for answer in q.answers})
ALL_FEATURES: tuple[str, ...] = tuple(a for q in QUESTIONS for a in q.answers)

#: The nine features every submission predicts and the leaderboard ranks, in this order.
BENCHMARK_FEATURES: tuple[str, ...] = (
    "smooth", "featured_or_disk", "artifact", "edge_on_yes", "edge_on_no",
    "bar_yes", "bar_no", "spiral_yes", "spiral_no",
)
BENCHMARK_QUESTIONS: tuple[str, ...] = ("smooth_or_featured", "edge_on", "bar", "spiral")

#: Named feature sets a model may train on. `study26` is the original study's shared set (bulge
#: 'just noticeable' and arm count 'can't tell' left out, so those questions do not sum to 1).
FEATURE_SETS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "benchmark": BENCHMARK_FEATURES,
    "study26": BENCHMARK_FEATURES + (
        "bulge_none", "bulge_obvious", "bulge_dominant",
        "round_completely", "round_in_between", "round_cigar",
        "winding_tight", "winding_medium", "winding_loose",
        "arms_1", "arms_2", "arms_3", "arms_4", "arms_more_than_4",
        "edge_on_bulge_rounded", "edge_on_bulge_boxy", "edge_on_bulge_none",
    ),
    "all": ALL_FEATURES,
})


# --- canonical column names of the benchmark dataset and of truth tables -------------------

def fraction_column(feature: str) -> str:
    """Vote fraction of one answer; null where its question was not asked."""
    return f"{feature}_fraction"


def count_column(feature: str) -> str:
    """Number of volunteers who gave this answer."""
    return f"{feature}_count"


def total_votes_column(question: str) -> str:
    """Number of volunteers who answered this question."""
    return f"{question}_total_votes"


def questions_of(features: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The questions the given features belong to, in registry order."""
    wanted = {QUESTION_OF_FEATURE[f] for f in features}
    return tuple(q.name for q in QUESTIONS if q.name in wanted)


def ancestors(question: str) -> tuple[str, ...]:
    """The chain of parent answers that must be given for `question` to be asked, root first."""
    chain: list[str] = []
    parent = QUESTION_BY_NAME[question].parent
    while parent is not None:
        chain.append(parent)
        parent = QUESTION_BY_NAME[QUESTION_OF_FEATURE[parent]].parent
    return tuple(reversed(chain))


# --- upstream naming schemes ---------------------------------------------------------------

@dataclass(frozen=True)
class NamingScheme:
    """How one upstream release names its vote columns.

    `questions` maps canonical question -> upstream question token; `answers` maps canonical
    feature -> upstream answer tokens, several when the canonical answer is a sum (DECaLS DR5
    'bar yes' = strong + weak). Templates take `{q}` and `{a}`; a missing template means the
    release has no such column (e.g. totals are then the sum of the answer counts).
    """

    name: str
    description: str
    questions: Mapping[str, str]
    answers: Mapping[str, tuple[str, ...]]
    count: str | None = "{q}_{a}"
    fraction: str | None = "{q}_{a}_fraction"
    total: str | None = "{q}_total-votes"
    hf_survey: str | None = None  # the survey whose Hugging Face releases use these names

    def covers(self, feature: str) -> bool:
        return feature in self.answers and QUESTION_OF_FEATURE[feature] in self.questions

    def _columns(self, template: str | None, feature: str) -> tuple[str, ...]:
        if template is None or not self.covers(feature):
            return ()
        q = self.questions[QUESTION_OF_FEATURE[feature]]
        return tuple(template.format(q=q, a=a) for a in self.answers[feature])

    def count_columns(self, feature: str) -> tuple[str, ...]:
        """Upstream count columns whose sum is the canonical count (empty if not published)."""
        return self._columns(self.count, feature)

    def fraction_columns(self, feature: str) -> tuple[str, ...]:
        """Upstream fraction columns whose sum is the canonical fraction."""
        return self._columns(self.fraction, feature)

    def total_column(self, question: str) -> str | None:
        if self.total is None or question not in self.questions:
            return None
        return self.total.format(q=self.questions[question])


def _suffixed(tokens: Mapping[str, str], suffix: str) -> dict[str, str]:
    return {k: v + suffix for k, v in tokens.items()}


_GZ2_TASKS = {
    "smooth_or_featured": "t01_smooth_or_features", "edge_on": "t02_edgeon", "bar": "t03_bar",
    "spiral": "t04_spiral", "bulge_size": "t05_bulge_prominence", "odd": "t06_odd",
    "roundness": "t07_rounded", "edge_on_bulge": "t09_bulge_shape",
    "spiral_winding": "t10_arms_winding", "spiral_arm_count": "t11_arms_number",
}
_GZ2_ANSWERS = {
    "smooth": ("a01_smooth",), "featured_or_disk": ("a02_features_or_disk",),
    "artifact": ("a03_star_or_artifact",), "edge_on_yes": ("a04_yes",), "edge_on_no": ("a05_no",),
    "bar_yes": ("a06_bar",), "bar_no": ("a07_no_bar",), "spiral_yes": ("a08_spiral",),
    "spiral_no": ("a09_no_spiral",), "bulge_none": ("a10_no_bulge",),
    "bulge_just_noticeable": ("a11_just_noticeable",), "bulge_obvious": ("a12_obvious",),
    "bulge_dominant": ("a13_dominant",), "odd_yes": ("a14_yes",), "odd_no": ("a15_no",),
    "round_completely": ("a16_completely_round",), "round_in_between": ("a17_in_between",),
    "round_cigar": ("a18_cigar_shaped",), "edge_on_bulge_rounded": ("a25_rounded",),
    "edge_on_bulge_boxy": ("a26_boxy",), "edge_on_bulge_none": ("a27_no_bulge",),
    "winding_tight": ("a28_tight",), "winding_medium": ("a29_medium",),
    "winding_loose": ("a30_loose",), "arms_1": ("a31_1",), "arms_2": ("a32_2",),
    "arms_3": ("a33_3",), "arms_4": ("a34_4",), "arms_more_than_4": ("a36_more_than_4",),
    "arms_cant_tell": ("a37_cant_tell",),
}
# Hugging Face `mwalmsley/*` releases of the GZ2 tree (gz2, gz_ukidss): `{question}-{survey}`.
_HF_GZ2_TREE_QUESTIONS = {
    "smooth_or_featured": "smooth-or-featured", "edge_on": "disk-edge-on", "bar": "bar",
    "spiral": "has-spiral-arms", "bulge_size": "bulge-size", "odd": "something-odd",
    "roundness": "how-rounded", "edge_on_bulge": "bulge-shape",
    "spiral_winding": "spiral-winding", "spiral_arm_count": "spiral-arm-count",
}
_HF_GZ2_TREE_ANSWERS = {
    "smooth": ("smooth",), "featured_or_disk": ("featured-or-disk",), "artifact": ("artifact",),
    "edge_on_yes": ("yes",), "edge_on_no": ("no",), "bar_yes": ("yes",), "bar_no": ("no",),
    "spiral_yes": ("yes",), "spiral_no": ("no",), "bulge_none": ("no",),
    "bulge_just_noticeable": ("just-noticeable",), "bulge_obvious": ("obvious",),
    "bulge_dominant": ("dominant",), "odd_yes": ("yes",), "odd_no": ("no",),
    "round_completely": ("round",), "round_in_between": ("in-between",), "round_cigar": ("cigar",),
    "edge_on_bulge_rounded": ("round",), "edge_on_bulge_boxy": ("boxy",),
    "edge_on_bulge_none": ("no-bulge",), "winding_tight": ("tight",),
    "winding_medium": ("medium",), "winding_loose": ("loose",), "arms_1": ("1",),
    "arms_2": ("2",), "arms_3": ("3",), "arms_4": ("4",), "arms_more_than_4": ("more-than-4",),
    "arms_cant_tell": ("cant-tell",),
}
# GZ DECaLS DR5 tree (Zenodo table without suffix, HF with `-dr5`). No 'anything odd' question.
# Bar has strong/weak/no (yes = strong + weak). Bulge size has five answers; the mapping onto
# the GZ2 four is approximate (small -> just noticeable, moderate + large -> obvious).
_DECALS_QUESTIONS = {
    "smooth_or_featured": "smooth-or-featured", "edge_on": "disk-edge-on", "bar": "bar",
    "spiral": "has-spiral-arms", "bulge_size": "bulge-size", "roundness": "how-rounded",
    "edge_on_bulge": "edge-on-bulge", "spiral_winding": "spiral-winding",
    "spiral_arm_count": "spiral-arm-count",
}
_DECALS_ANSWERS = {
    "smooth": ("smooth",), "featured_or_disk": ("featured-or-disk",), "artifact": ("artifact",),
    "edge_on_yes": ("yes",), "edge_on_no": ("no",), "bar_yes": ("strong", "weak"),
    "bar_no": ("no",), "spiral_yes": ("yes",), "spiral_no": ("no",), "bulge_none": ("none",),
    "bulge_just_noticeable": ("small",), "bulge_obvious": ("moderate", "large"),
    "bulge_dominant": ("dominant",), "round_completely": ("round",),
    "round_in_between": ("in-between",), "round_cigar": ("cigar-shaped",),
    "edge_on_bulge_rounded": ("rounded",), "edge_on_bulge_boxy": ("boxy",),
    "edge_on_bulge_none": ("none",), "winding_tight": ("tight",), "winding_medium": ("medium",),
    "winding_loose": ("loose",), "arms_1": ("1",), "arms_2": ("2",), "arms_3": ("3",),
    "arms_4": ("4",), "arms_more_than_4": ("more-than-4",), "arms_cant_tell": ("cant-tell",),
}

# GZ DECaLS GZD-1/2 (DR1/DR2 images: Zenodo gz_decals_volunteers_1_and_2, the `-dr12` campaign
# of mwalmsley/gz_desi and galaxy-datasets): the GZ2-like tree with a binary bar question,
# three bulge sizes (dominant / obvious / none: no 'just noticeable'), 'completely' round, and
# no 'can't tell' arm count (so those canonical answers stay null, never a silent 0).
_DR12_ANSWERS = {
    **{k: v for k, v in _DECALS_ANSWERS.items()
       if not k.startswith(("bulge_", "round_")) and k != "arms_cant_tell"},
    "bar_yes": ("yes",), "bar_no": ("no",), "bulge_none": ("none",), "bulge_obvious": ("obvious",),
    "bulge_dominant": ("dominant",), "round_completely": ("completely",),
    "round_in_between": ("in-between",), "round_cigar": ("cigar-shaped",),
}

NAMING_SCHEMES: Mapping[str, NamingScheme] = MappingProxyType({s.name: s for s in (
    NamingScheme("hart16", "GZ2 table of Hart et al. 2016 (t01_..._count / _fraction)",
                 _GZ2_TASKS, _GZ2_ANSWERS, count="{q}_{a}_count", fraction="{q}_{a}_fraction",
                 total=None),
    NamingScheme("study", "the original study's GZ2-style fraction names (t01_..._fraction)",
                 _GZ2_TASKS, _GZ2_ANSWERS, count=None, fraction="{q}_{a}_fraction", total=None),
    NamingScheme("hf-gz2", "Hugging Face mwalmsley/gz2 (-gz2)",
                 _suffixed(_HF_GZ2_TREE_QUESTIONS, "-gz2"), _HF_GZ2_TREE_ANSWERS,
                 hf_survey="sdss"),
    NamingScheme("hf-ukidss", "Hugging Face mwalmsley/gz_ukidss (-ukidss)",
                 _suffixed(_HF_GZ2_TREE_QUESTIONS, "-ukidss"), _HF_GZ2_TREE_ANSWERS,
                 hf_survey="ukidss"),
    # One mwalmsley/gz_desi table holds these three campaigns side by side; each galaxy has
    # the votes of one, the others' columns null. Listed in the order a row's campaign is
    # looked for.
    NamingScheme("hf-dr12", "Hugging Face GZ DECaLS GZD-1/2 campaign (-dr12; bar yes/no)",
                 _suffixed(_DECALS_QUESTIONS, "-dr12"), _DR12_ANSWERS, hf_survey="decals"),
    NamingScheme("hf-dr5", "Hugging Face GZ DECaLS DR5 releases (-dr5)",
                 _suffixed(_DECALS_QUESTIONS, "-dr5"), _DECALS_ANSWERS, hf_survey="decals"),
    NamingScheme("hf-dr8", "Hugging Face GZ DESI DR8 campaign (-dr8; the DR5 tree)",
                 _suffixed(_DECALS_QUESTIONS, "-dr8"), _DECALS_ANSWERS, hf_survey="decals"),
    # Walmsley et al. 2022 on Zenodo: both tables name questions without a campaign suffix
    # (first question alike), so the bar answers (strong/weak vs yes) tell them apart.
    NamingScheme("decals-zenodo", "GZ DECaLS GZD-5 Zenodo table (gz_decals_volunteers_5)",
                 _DECALS_QUESTIONS, _DECALS_ANSWERS),
    NamingScheme("decals-zenodo-dr12",
                 "GZ DECaLS GZD-1/2 Zenodo table (gz_decals_volunteers_1_and_2; bar yes/no)",
                 _DECALS_QUESTIONS, _DR12_ANSWERS),
)})


# --- surveys -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Survey:
    """One survey of the benchmark: a dataset config with its own splits."""

    name: str
    title: str
    bands: tuple[str, ...]
    wavelength: str
    hf_release: str  # the public Hugging Face release of its Galaxy Zoo labels and images
    hf_scheme: str  # the naming scheme of that release
    splits: tuple[str, ...]
    ood: bool  # True: never trained on; evaluated as the unseen survey
    #: The survey that holds every galaxy of this one (every GZ UKIDSS galaxy is a GZ2
    #: galaxy): the build measures how many it matched there and refuses a low coverage.
    covered_by: str | None = None
    id_prefix: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id_prefix:
            object.__setattr__(self, "id_prefix", self.name)


#: Splits of an optical survey. `validation`/`test` are i.i.d. with `train` (galaxies without a
#: UKIDSS view); `paired_validation`/`paired_test` hold the optical views of the UKIDSS
#: validation/test galaxies: never trained on, for paired cross-survey comparisons.
OPTICAL_SPLITS = ("train", "validation", "test", "paired_validation", "paired_test")
#: The optical split that holds the optical views of each split of the unseen survey.
PAIRED_SPLIT = {"validation": "paired_validation", "test": "paired_test"}

SURVEYS: Mapping[str, Survey] = MappingProxyType({s.name: s for s in (
    Survey("sdss", "Galaxy Zoo 2 (SDSS)", ("g", "r", "i"), "optical", "mwalmsley/gz2",
           "hf-gz2", OPTICAL_SPLITS, ood=False),
    Survey("decals", "Galaxy Zoo DECaLS (DR5)", ("g", "r", "z"), "optical",
           "mwalmsley/gz_desi", "hf-dr5", OPTICAL_SPLITS, ood=False),
    Survey("ukidss", "Galaxy Zoo UKIDSS", ("Y", "J", "K"), "near-infrared", "mwalmsley/gz_ukidss",
           "hf-ukidss", ("validation", "test"), ood=True, covered_by="sdss"),
)})

#: The Hub dataset repo of the real-data benchmark (simulated builds are never pushed to it
#: without an explicit flag).
DATASET_REPO = "galaxy-sommelier/benchmark"

#: The evaluation every submission must provide and the leaderboard ranks by.
PRIMARY_SURVEY = "ukidss"
PRIMARY_SPLIT = "test"


def make_id(survey: str, source_id: str) -> str:
    """Benchmark-wide unique id: the survey's prefix and the upstream id."""
    return f"{SURVEYS[survey].id_prefix}:{source_id}"
