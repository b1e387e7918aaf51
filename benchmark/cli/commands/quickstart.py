"""`sommelier quickstart`: the whole benchmark end to end on the simulated surveys."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = ("Simulate the three surveys, build the benchmark, train and evaluate the reference "
        "baselines, and render the leaderboard (all on this machine, a few minutes on a CPU).")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="quickstart-out", metavar="DIR",
                        help="output folder, git-ignored (default %(default)s/); cleared if an "
                             "earlier quick start made it")
    parser.add_argument("--n", type=int, default=4000,
                        help="simulated galaxies (default %(default)s)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="training seeds of the DINOv2 baselines (default %(default)s)")
    parser.add_argument("--publish", action="store_true",
                        help="also copy the entries into submissions/ and regenerate "
                             "leaderboard/ and README.md's table (the committed ones; "
                             "untouched otherwise)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from ..quickstart import publish, quickstart, report

    result = quickstart(args.out, n=args.n, seeds=args.seeds, progress=not args.quiet)
    print(report(result))
    if args.publish:
        for path in publish(result, Path("submissions"), Path("leaderboard"), Path("README.md")):
            print(f"published {path}")
        print("regenerated leaderboard/ and the table in README.md")
    return 0
