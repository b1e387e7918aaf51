"""The whole benchmark end to end on the simulated surveys: the project's main job.

simulate -> build the benchmark dataset with the real builder -> train the reference baselines
on the standard track -> predict SDSS/DECaLS/UKIDSS test -> evaluate -> leaderboard. Every
stage is the same function the CLI runs on its own; only the output folder is the quick start's.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from .. import registry as R
from ..atomic import atomic_directory, check_replaceable
from ..evaluation.display import estimate, number
from ..errors import ArgumentError
from ..leaderboard.write import OUTPUTS, update_readme, write_leaderboard
from ..leaderboard.board import Ranked, collect, compare
from .models import predict, train

MARKER = ".sommelier-quickstart"
#: UKIDSS test (ranked), the optical i.i.d. tests (the ID -> OOD change) and the optical views
#: of the UKIDSS test galaxies (same galaxies, other survey: paired comparisons).
PREDICTED_SPLITS = ("ukidss:test", "sdss:test", "decals:test", "sdss:paired_test",
                    "decals:paired_test")
ENTRY_PREFIX = "quickstart-"
#: Seeds per model below which the verdict warns that training noise is not in its interval.
RELIABLE_SEEDS = 3
MIN_GALAXIES = 200


@dataclass(frozen=True)
class QuickstartBaseline:
    """One reference baseline of the quick start: a config (bundled name or YAML path), and
    whether extra seeds are worth their time (deterministic baselines are not)."""

    config: str
    seeded: bool

    @property
    def slug(self) -> str:
        return ENTRY_PREFIX + Path(self.config).stem


BASELINES: tuple[QuickstartBaseline, ...] = (
    QuickstartBaseline("constant-sdss", seeded=False),
    QuickstartBaseline("tiny-cpu-linear-probe", seeded=False),
    QuickstartBaseline("tiny-cpu-sdss", seeded=True),
    QuickstartBaseline("tiny-cpu-mixed", seeded=True),
)
#: The study's comparison: mixed-survey training against SDSS-only, on UKIDSS.
COMPARISON = ("tiny-cpu-mixed", "tiny-cpu-sdss")


@dataclass(frozen=True)
class QuickstartResult:
    out: Path
    submissions: Path
    leaderboard: Path
    seconds: float
    #: per question, the simulated shift that explains most of the best model's drop
    attribution: str = ""


def _fresh_output(out: Path) -> None:
    """Start from an empty folder; only a folder an earlier quick start made is cleared."""
    check_replaceable(out, MARKER, "`sommelier quickstart`")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by sommelier quickstart; safe to delete\n")


def _step(text: str, progress: bool) -> None:
    if progress:
        print(f"quickstart: {text}", file=sys.stderr, flush=True)


def quickstart(out: str | Path, n: int = 4000, seeds: int = 1, image_size: int = 64,
               progress: bool = True,
               baselines: tuple[QuickstartBaseline, ...] = BASELINES) -> QuickstartResult:
    """Run every stage into `out` (cleared first if an earlier quick start made it)."""
    from ..dataset.build import build
    from ..dataset.load import SIMULATION_SEED, simulated_name
    from ..simulator.writer import simulate

    if isinstance(n, bool) or not isinstance(n, int) or n < MIN_GALAXIES:
        raise ArgumentError("n", f"{n}: the quick start needs at least {MIN_GALAXIES} galaxies")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ArgumentError("seeds", f"{seeds}: give at least 1")
    start = time.perf_counter()
    out = Path(out).expanduser().resolve()
    _fresh_output(out)
    _step(f"simulating {n} galaxies seen by SDSS, DECaLS and UKIDSS", progress)
    sim = simulate(out / "sim", n=n, seed=SIMULATION_SEED, image_size=image_size, progress=progress)
    _step("building the benchmark dataset from the simulated releases", progress)
    data = str(out / simulated_name(n))
    build([f"sim:{sim}"], data, progress=progress)
    submissions = out / "submissions"
    checkpoints: dict[str, Path] = {}  # each entry's seed-0 model
    for baseline in baselines:
        entry = submissions / baseline.slug
        for seed in range(seeds if baseline.seeded else 1):
            _step(f"training {baseline.config} (seed {seed})", progress)
            checkpoint = train(baseline.config, data=data, seed=seed,
                               out=out / "runs" / f"{Path(baseline.config).stem}-seed{seed}")
            predict(checkpoint, data, list(PREDICTED_SPLITS), entry, seed=seed)
            checkpoints.setdefault(baseline.slug, checkpoint)
    _step("scoring the entries and rendering the leaderboard", progress)
    board = out / "leaderboard"
    write_leaderboard(submissions, board, data_root=out)  # writes each entry's results.json
    _step("attributing the best model's UKIDSS drop to the simulated shifts", progress)
    attribution = best_model_attribution(sim, data, checkpoints,
                                         ranked_entries(submissions, out), progress)
    return QuickstartResult(out, submissions, board, time.perf_counter() - start, attribution)


#: UKIDSS test galaxies the quick start's attribution scores: seconds, not minutes.
ATTRIBUTION_GALAXIES = 300


def best_model_attribution(sim: Path, data: str, checkpoints: dict[str, Path],
                           ranked: list[Ranked], progress: bool) -> str:
    """Per question, the simulated shift that explains most of the best-ranked model's drop
    from SDSS to UKIDSS (`sommelier attribute` on a few hundred galaxies), and the command
    that prints all of it."""
    from ..simulator.studies.attribution import question_summary
    from .attribution import attribute_checkpoint

    best = next((r for r in ranked if r.primary is not None and r.sub.slug in checkpoints), None)
    if best is None:
        return ""
    slug, checkpoint = best.sub.slug.removeprefix(ENTRY_PREFIX), checkpoints[best.sub.slug]
    result = attribute_checkpoint(sim, data, checkpoint, ATTRIBUTION_GALAXIES, model=slug,
                                  progress=progress)
    return "\n".join([f"Where {slug} (seed 0) loses its UKIDSS r, by simulated shift "
                      f"({result.galaxies} UKIDSS test galaxies):", *question_summary(result),
                      f"All of it: sommelier attribute --sim {sim} --data {data} "
                      f"--checkpoint {checkpoint}"])


def ranked_entries(submissions: Path, data_root: Path) -> list[Ranked]:
    """The quick start's entries, ranked (all were scored on the same truth, standard track)."""
    (group,) = collect(submissions, data_root=data_root).groups
    return group.tracks["standard"]


def ukidss_table(rows: list[Ranked]) -> str:
    """One column per entry (in rank order): primary metric with its 95% CI, per-feature r on
    UKIDSS test, and the change of macro r from each in-distribution test split (negative:
    the OOD gap)."""
    id_surveys = [s.name for s in R.SURVEYS.values() if not s.ood]
    lines = ([("rank", lambda r: str(r.rank)),
              ("macro r [95% CI]", lambda r: estimate(r.primary, r.std, r.ci))]
             + [(f, lambda r, f=f: number(r.features[f]["pearson_r"]))
                for f in R.BENCHMARK_FEATURES]
             + [(f"Δ macro r, {s} test → ukidss", lambda r, s=s: number(r.id_to_ood.get(s)))
                for s in id_surveys])
    headers = ["UKIDSS test"] + [r.sub.slug.removeprefix(ENTRY_PREFIX) for r in rows]
    body = [[label] + [cell(r) for r in rows] for label, cell in lines]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def comparison(rows: list[Ranked], mixed_config: str, sdss_config: str) -> str:
    """Does mixed-survey training beat SDSS-only on UKIDSS here? Said as the numbers allow."""
    by_slug = {row.sub.slug: row for row in rows}
    mixed, sdss = by_slug.get(ENTRY_PREFIX + mixed_config), by_slug.get(ENTRY_PREFIX + sdss_config)
    if mixed is None or sdss is None or mixed.primary is None or sdss.primary is None:
        return "Mixed vs SDSS-only: not compared (an entry is missing or has no macro r)."
    paired = compare(mixed, sdss)
    verdict = "beats" if paired.difference > 0 else "does not beat"
    if paired.ci is None:
        certainty = "no intervals were computed"
    else:
        interval = f"paired 95% interval [{paired.ci[0]:+.3f}, {paired.ci[1]:+.3f}]"
        certainty = (f"{interval} contains 0, so this run cannot tell them apart"
                     if paired.tied else f"{interval} excludes 0")
    seeds = min(len(mixed.sub.seeds), len(sdss.sub.seeds))
    caveat = ("" if seeds >= RELIABLE_SEEDS else
              f" With {seeds} seed{'s' if seeds > 1 else ''} per model the interval covers the "
              f"test galaxies only, not how training varies from seed to seed (larger than this "
              f"gap for the tiny models): pass --seeds {RELIABLE_SEEDS} or more before reading it "
              f"as a verdict.")
    return (f"Mixed SDSS+DECaLS training {verdict} SDSS-only on UKIDSS here: macro r "
            f"{number(mixed.primary)} vs {number(sdss.primary)} ({paired.difference:+.3f}, "
            f"seed means of {seeds} seed{'s' if seeds > 1 else ''} each); {certainty}.{caveat} "
            "(The original study found +0.064 on real data, with one seed and no intervals.)")


def report(result: QuickstartResult) -> str:
    rows = ranked_entries(result.submissions, result.out)
    return (f"\nUKIDSS test, the survey no model trained on: Pearson r per feature, ranked by "
            f"macro r.\nSimulated data and tiny randomly initialised models: the numbers "
            f"exercise the benchmark, they say nothing about DINOv2 on real galaxies.\n\n"
            f"{ukidss_table(rows)}\n\n'-': undefined (a constant prediction has no correlation)."
            f"\n\n{comparison(rows, *COMPARISON)}\n\n"
            + (f"{result.attribution}\n\n" if result.attribution else "") +
            f"Leaderboard page: {(result.leaderboard / 'index.html').as_uri()}\n"
            f"Per-feature plot: {result.leaderboard / 'per_feature.png'}\n"
            f"Entries: {result.submissions}\n"
            f"Finished in {result.seconds:.0f} s.")


def publish(result: QuickstartResult, submissions: Path, leaderboard: Path,
            readme: Path | None = None) -> list[Path]:
    """Copy the quick start's entries into `submissions` (replacing earlier quick-start
    entries of the same name), regenerate `leaderboard` and the README's table."""
    copied = []
    for entry in sorted(result.submissions.iterdir()):
        target = submissions / entry.name
        with atomic_directory(target) as tmp:
            shutil.copytree(entry, tmp, dirs_exist_ok=True)
        copied.append(target)
    write_leaderboard(submissions, leaderboard, data_root=result.out)
    if readme is not None:
        update_readme(readme, (leaderboard / OUTPUTS["markdown"]).read_text(encoding="utf-8"))
    return copied
