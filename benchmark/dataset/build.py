"""Build the benchmark dataset: sources -> canonical rows -> groups -> splits -> published folder.

The whole output is written to a temporary folder and renamed into place at the end, so a build
killed at any point leaves either the previous complete dataset or nothing; a re-run starts
afresh and, being deterministic, writes byte-identical files.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import registry as R
from ..atomic import atomic_directory
from ..errors import ArgumentError, SommelierError
from ..jsonfile import write_json
from .harmonise import impossible_votes
from .crossmatch import overlap_counts, read_id_map
from .identity import DEFAULT_MIN_COVERAGE, IDENTITY_FILE, link
from .sources import SourceData, read_source
from .splits import SplitDefinition, assign_splits


@dataclass
class BuildReport:
    """What a build read, dropped, linked and wrote: the numbers the dataset card states."""

    sources: list[str]
    #: the surveys each source gave rows of (the card cites the releases of each)
    source_surveys: dict[str, list[str]] = field(default_factory=dict)
    #: what each source's reader said about how it was read (SourceData.notes)
    source_notes: dict[str, list[str]] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)
    dropped: dict[tuple[str, str], int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)
    overlaps: dict[str, int] = field(default_factory=dict)
    split_sizes: dict[tuple[str, str], int] = field(default_factory=dict)
    #: unseen surveys matched below the minimum coverage (built with --allow-unmatched)
    unmatched: list[str] = field(default_factory=list)
    identity: dict = field(default_factory=dict)  # the audit, written as identity.json
    out: Path | None = None


def _image_ok(data: bytes | None) -> str | None:
    """None if the image decodes, else the reason it is dropped."""
    if data is None:
        return "missing image"
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return "corrupt image"
    return None


def quality_reasons(rows: pd.DataFrame, min_votes: int) -> pd.Series:
    """The reason each row is dropped (None = kept). Duplicated ids drop every copy: which
    copy's votes are right cannot be known."""
    reasons = pd.Series([_image_ok(b) for b in rows["image"]], index=rows.index, dtype=object)
    first = rows[R.total_votes_column(R.QUESTIONS[0].name)].astype("float64")
    checks = (
        ("duplicate id", rows["id_str"].duplicated(keep=False)),
        ("impossible votes", impossible_votes(rows)),
        ("no votes on the first question", first.isna() | (first <= 0)),
        (f"fewer than {min_votes} first-question votes", first < min_votes),
    )
    for reason, mask in checks:
        reasons = reasons.where(reasons.notna() | ~mask.to_numpy(), reason)
    return reasons


def collect_rows(sources: list[SourceData]) -> pd.DataFrame:
    frames = []
    for source in sources:
        for part in source.surveys:
            frame = part.frame.copy()
            frame.insert(0, "survey", part.survey)
            frame.insert(0, "id_str", [R.make_id(part.survey, s) for s in frame["source_id"]])
            frames.append(frame)
    if not frames:
        raise SommelierError("no sources given: name at least one with --source KIND:PATH")
    return pd.concat(frames, ignore_index=True)


#: Why a row no evidence ties to its other views is dropped: a UKIDSS galaxy not matched to
#: GZ2, an optical row with neither coordinates nor an id-map entry. Kept, its twins could
#: sit in training.
UNKNOWN_IDENTITY = "identity unknown (no match, no coordinates or id)"


def coverage_refusal(short: list[dict], rows: pd.DataFrame, maps: list[pd.DataFrame]) -> str:
    """Why a build with too little of the unseen survey matched stops, and what to pass."""
    parts = []
    for c in short:
        survey, by = c["survey"], c["by"]
        if c["share"] is None:
            parts.append(f"{by} was not read, so {survey} cannot be matched to the survey that "
                         f"holds all of its galaxies; add the {by} source")
            continue
        parts.append(f"only {c['matched']} of {c['rows']} {survey} galaxies ({c['share']:.1%}) "
                     f"were matched to a {by} galaxy (minimum {c['minimum']:.0%}), e.g. "
                     + ", ".join(c["unmatched_examples"]))
        mapped = any(survey in m.columns for m in maps)
        if rows.loc[rows["survey"] == survey, "ra"].isna().all() and not mapped:
            parts.append(f"{survey} has no coordinates and no id map: pass --id-map FILE "
                         f"(columns named by survey, e.g. {survey},{by})")
    return ("; ".join(parts) + ". Unmatched galaxies may have optical views in training. "
            "Pass --allow-unmatched to build anyway with the coverage and the unknown leakage "
            "stated in the card, or --min-coverage SHARE to change the minimum")


def build(sources: list[str], out: str | Path, *, id_maps: list[str | Path] = (),
          definition: SplitDefinition | None = None, allow_unmatched: bool = False,
          min_coverage: float = DEFAULT_MIN_COVERAGE,
          strict: bool = False, num_proc: int = 1, repo: str = R.DATASET_REPO,
          progress: bool = True) -> BuildReport:
    """Read `sources` (`KIND:PATH` strings), build and publish the dataset folder `out`."""
    from . import publish

    if not 0 <= min_coverage <= 1:
        raise ArgumentError("min_coverage", f"must be a share between 0 and 1, not {min_coverage}")
    definition = definition or SplitDefinition.load()
    data = [read_source(s) for s in sources]
    maps = [m for d in data for m in d.id_maps]
    maps += [read_id_map(p) for p in id_maps]
    rows = collect_rows(data)
    report = BuildReport([d.name for d in data],
                         source_surveys={d.name: [p.survey for p in d.surveys] for d in data},
                         source_notes={d.name: list(d.notes) for d in data},
                         rows_read={s: int(n) for s, n in rows["survey"].value_counts(sort=False).items()})

    # Identity and splits come first, from every row read: a row the checks drop keeps its
    # group, so its twins in other surveys still stay out of training.
    identity = link(rows, maps, definition.match_radius_arcsec, min_coverage)
    report.identity = identity.audit
    report.links = identity.audit["links"]
    short = identity.short()
    report.unmatched = [c["survey"] for c in short]
    if short and not allow_unmatched:
        raise SommelierError(coverage_refusal(short, rows, maps))
    rows["group_id"] = identity.group_id
    rows["split"] = assign_splits(rows, definition)

    reasons = quality_reasons(rows, definition.min_first_question_votes)
    if not allow_unmatched:  # kept with --allow-unmatched, whose card says the leakage is unknown
        reasons = reasons.where(reasons.notna() | ~identity.unknown, UNKNOWN_IDENTITY)
    dropped = reasons.notna().to_numpy()
    report.dropped = {k: int(v) for k, v in
                      Counter(zip(rows.loc[dropped, "survey"], reasons[dropped])).items()}
    if strict and report.dropped:
        raise SommelierError(f"strict mode: {sum(report.dropped.values())} rows failed checks: "
                             + "; ".join(f"{s} {r}: {n}" for (s, r), n in sorted(report.dropped.items())))
    emptied = sorted(set(rows["survey"]) - set(rows.loc[~dropped, "survey"]), key=list(R.SURVEYS).index)
    if emptied:
        raise SommelierError(
            "no survey may silently disappear, but every row of " + ", ".join(emptied) + " failed "
            "the checks: " + "; ".join(f"{s} {r}: {n}" for (s, r), n in sorted(report.dropped.items())
                                       if s in emptied)
            + ("; a catalogue with fractions but no vote counts cannot be checked: give one "
               "with the counts, or leave the survey out"
               if any(s in emptied and r == "no votes on the first question"
                      for s, r in report.dropped) else ""))
    rows = rows[~dropped].reset_index(drop=True)
    report.overlaps = overlap_counts(rows)
    rows = rows.sort_values(["survey", "split", "id_str"], kind="stable").reset_index(drop=True)
    sizes = rows.groupby(["survey", "split"]).size()
    report.split_sizes = {(s, p): int(sizes[s, p]) for s in R.SURVEYS for p in R.SURVEYS[s].splits
                          if (s, p) in sizes.index}

    with atomic_directory(out) as tmp:
        publish.write_dataset(rows, tmp, definition, num_proc=num_proc, progress=progress)
        shards = publish.write_card(tmp, report, definition, repo)
        write_json(tmp / IDENTITY_FILE, report.identity)
        publish.write_manifest(tmp, known=shards)
    report.out = Path(out)
    return report
