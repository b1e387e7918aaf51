"""`sommelier data build|push|download`: make, publish and fetch the benchmark dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from ... import registry as R

HELP = "Build the benchmark dataset from Galaxy Zoo sources, push it to the Hub, download it."


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="harmonise sources into leakage-free splits (Hub layout)",
                           description="Harmonise Galaxy Zoo sources into the benchmark dataset.")
    build.add_argument("--source", action="append", required=True, metavar="KIND:PATH",
                       help="a source: hf, sim, hart16, decals-zenodo or ukidss-catalog, e.g. "
                            "sim:out/sim, hf:mwalmsley/gz2, hart16:gz2.csv,images=DIR (repeatable)")
    build.add_argument("--id-map", action="append", default=[], metavar="FILE",
                       help="CSV/Parquet whose columns are survey names holding upstream ids of "
                            "the same galaxy, e.g. ukidss,sdss (repeatable)")
    build.add_argument("--out", required=True, help="output folder (replaced atomically)")
    build.add_argument("--allow-unmatched", action="store_true",
                       help="build even if too few UKIDSS galaxies are matched to GZ2; the card "
                            "states the coverage and that the leakage is unknown")
    build.add_argument("--min-coverage", type=float, default=None, metavar="SHARE",
                       help="share of UKIDSS galaxies that must share a group with a GZ2 "
                            "galaxy (every GZ UKIDSS galaxy is one; default 0.99)")
    build.add_argument("--strict", action="store_true", help="fail if any row fails a check")
    build.add_argument("--num-proc", type=int, default=1, help="shards written in parallel")
    build.add_argument("--repo", default=R.DATASET_REPO,
                       help="Hub id named in the dataset card's usage example")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(action_run=_build)

    push = sub.add_parser("push", help="upload a built folder to the Hugging Face Hub",
                          description="Verify a built folder's manifest and upload it.")
    push.add_argument("--folder", required=True, help="a folder written by `data build`")
    push.add_argument("--repo", required=True, help="Hub dataset repo, ORG/NAME")
    push.add_argument("--revision", help="branch to push to (default main)")
    push.add_argument("--private", action="store_true")
    push.add_argument("--dry-run", action="store_true",
                      help="check and list what would be sent (files, sizes, repo, revision)")
    push.add_argument("--allow-simulated", action="store_true",
                      help="push a simulated folder even to galaxy-sommelier/benchmark, the "
                           "real-data repo")
    push.set_defaults(action_run=_push)

    download = sub.add_parser("download", help="fetch a revision and verify its manifest",
                              description="Fetch a dataset revision (or check a local folder).")
    download.add_argument("--repo", required=True, help="Hub dataset repo or local folder")
    download.add_argument("--revision", help="commit, tag or branch (pin one for reproducibility)")
    download.add_argument("--out", default="benchmark-data", help="local folder for the download")
    download.set_defaults(action_run=_download)

    from ...dataset.image_audit import KINDS, Thresholds

    limits = Thresholds()
    audit = sub.add_parser(
        "audit", help="image-level leakage probe: near-duplicates and cross-survey twins",
        description="Embed every image with a fixed descriptor and flag evaluation images whose "
                    "nearest neighbour across a split boundary is suspiciously close "
                    "(docs/leakage.md). Exit status: 0 no suspects of the --fail-on kinds, "
                    "1 some, 2 error.")
    audit.add_argument("dataset", metavar="DATASET", help="benchmark folder or Hub id ORG/NAME")
    audit.add_argument("--revision", help="dataset revision (Hub)")
    audit.add_argument("--out", metavar="FILE",
                       help="write the suspects: .csv or .parquet (one row each) or .json "
                            "(the whole report); written atomically")
    audit.add_argument("--duplicate-ratio", type=float, default=limits.duplicate_ratio,
                       help="duplicate if d1/d2 <= this (default %(default)s)")
    audit.add_argument("--duplicate-distance", type=float, default=limits.duplicate_distance,
                       help="duplicate if d1 <= this (default %(default)s)")
    audit.add_argument("--twin-ratio", type=float, default=limits.twin_ratio,
                       help="cross-survey twin if d1/d2 <= this (default %(default)s)")
    audit.add_argument("--fail-on", choices=[*KINDS, "any", "none"], default="duplicate",
                       help="suspects of this kind give exit status 1 (default %(default)s: "
                            "twins are hints, near-duplicates are leaks)")
    audit.add_argument("--show", type=int, default=20, help="suspects printed (default 20)")
    audit.add_argument("--quiet", action="store_true", help="no progress bar")
    audit.set_defaults(action_run=_audit)


def _build(args: argparse.Namespace) -> int:
    from ...dataset.build import build

    from ...dataset.identity import DEFAULT_MIN_COVERAGE

    coverage = DEFAULT_MIN_COVERAGE if args.min_coverage is None else args.min_coverage
    report = build(args.source, args.out, id_maps=args.id_map, allow_unmatched=args.allow_unmatched,
                   min_coverage=coverage,
                   strict=args.strict, num_proc=args.num_proc, repo=args.repo,
                   progress=not args.quiet)
    for (survey, split), n in report.split_sizes.items():
        print(f"{survey:>7} {split:<17} {n:>7}")
    dropped = sum(report.dropped.values())
    print(f"dropped {dropped} rows" + (": " + "; ".join(
        f"{s} {r}: {n}" for (s, r), n in sorted(report.dropped.items())) if dropped else ""))
    if report.unmatched:
        print(f"WARNING: {', '.join(report.unmatched)} below the minimum coverage: leakage "
              "unknown (see the card and identity.json)")
    print(report.out)
    return 0


def _push(args: argparse.Namespace) -> int:
    from ...dataset.publish import push

    files = push(args.folder, args.repo, revision=args.revision, private=args.private,
                 dry_run=args.dry_run, allow_simulated=args.allow_simulated)
    sizes = {f: (Path(args.folder) / f).stat().st_size for f in files}
    verb = "would send" if args.dry_run else "sent"
    print(f"{verb} {len(files)} files ({_size(sum(sizes.values()))}) to dataset repo "
          f"{args.repo}, revision {args.revision or 'main'}:")
    print("\n".join(f"  {_size(n):>10}  {f}" for f, n in sizes.items()))
    return 0


def _size(n: int) -> str:
    """Bytes for people: 1.2 MB, 340 kB, 12 B (decimal units, as the Hub shows them)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _download(args: argparse.Namespace) -> int:
    from ...dataset.publish import download

    path = download(args.repo, args.out, revision=args.revision)
    print(path)
    return 0


def _audit(args: argparse.Namespace) -> int:
    from ...dataset.image_audit import (KINDS, Thresholds, audit, check_report_path, summary,
                                        write_report)
    from ...dataset.load import DataReferenceError
    from ...errors import SommelierError

    thresholds = Thresholds(duplicate_distance=args.duplicate_distance,
                            duplicate_ratio=args.duplicate_ratio, twin_ratio=args.twin_ratio)
    if args.out:
        check_report_path(args.out)
    try:
        report = audit(args.dataset, args.revision, thresholds, progress=not args.quiet)
    except DataReferenceError as exc:  # positional here, not --data
        raise SommelierError(f"DATASET {exc.problem}") from None
    print(summary(report, show=args.show))
    if args.out:
        write_report(report, args.out)
        print(f"wrote {len(report.suspects)} suspects to {args.out}")
    failing = {"any": KINDS, "none": ()}.get(args.fail_on, (args.fail_on,))
    return 1 if report.of_kind(failing) else 0


def run(args: argparse.Namespace) -> int:
    return args.action_run(args)
