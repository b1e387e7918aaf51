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
from ..errors import SommelierError
from .harmonise import impossible_votes
from .crossmatch import find_links, group_ids, overlap_counts, read_id_map, unmatched_surveys
from .sources import SourceData, read_source
from .splits import SplitDefinition, assign_splits


@dataclass
class BuildReport:
    """What a build read, dropped, linked and wrote: the numbers the dataset card states."""

    sources: list[str]
    rows_read: dict[str, int] = field(default_factory=dict)
    dropped: dict[tuple[str, str], int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)
    overlaps: dict[str, int] = field(default_factory=dict)
    split_sizes: dict[tuple[str, str], int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
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


def build(sources: list[str], out: str | Path, *, id_maps: list[str | Path] = (),
          definition: SplitDefinition | None = None, allow_unmatched: bool = False,
          strict: bool = False, num_proc: int = 1, repo: str = "galaxy-sommelier/benchmark",
          progress: bool = True) -> BuildReport:
    """Read `sources` (`KIND:PATH` strings), build and publish the dataset folder `out`."""
    from . import publish

    definition = definition or SplitDefinition.load()
    data = [read_source(s) for s in sources]
    maps = [m for d in data for m in d.id_maps]
    maps += [read_id_map(p) for p in id_maps]
    rows = collect_rows(data)
    report = BuildReport([d.name for d in data],
                         rows_read={s: int(n) for s, n in rows["survey"].value_counts(sort=False).items()})

    # Identity and splits come first, from every row read: a row the checks drop keeps its
    # group, so its twins in other surveys still stay out of training.
    report.unmatched = unmatched_surveys(rows, maps)
    if any(R.SURVEYS[s].ood for s in report.unmatched) and not allow_unmatched:
        raise SommelierError(
            f"{', '.join(report.unmatched)} has no coordinates and no id map, so its galaxies "
            "cannot be matched to the optical surveys and the OOD test cannot be de-duplicated "
            "against training data. Pass --id-map FILE (columns named by survey, e.g. "
            "ukidss,sdss), or --allow-unmatched to build anyway with the leakage stated in the card")
    links = find_links(rows, maps, definition.match_radius_arcsec)
    report.links = links.by_method
    rows["group_id"] = rows["id_str"].map(group_ids(list(rows["id_str"]), links.pairs))
    rows["split"] = assign_splits(rows, definition)

    reasons = quality_reasons(rows, definition.min_first_question_votes)
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
    report.split_sizes = {(s, p): int(n) for (s, p), n in rows.groupby(["survey", "split"]).size().items()}

    with atomic_directory(out) as tmp:
        publish.write_dataset(rows, tmp, definition, num_proc=num_proc, progress=progress)
        publish.write_card(tmp, report, definition, repo)
        publish.write_manifest(tmp)
    report.out = Path(out)
    return report
