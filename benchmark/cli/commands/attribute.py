"""`sommelier attribute`: how much of a model's UKIDSS drop each simulated shift explains."""

from __future__ import annotations

import argparse

HELP = ("how much of a checkpoint's drop from SDSS to UKIDSS each simulated shift explains "
        "(re-renders the UKIDSS test with one shift on at a time, and all but one)")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sim", required=True, metavar="DIR",
                        help="the `sommelier sim` folder the dataset was built from")
    parser.add_argument("--data", required=True,
                        help="the benchmark dataset built from it (its UKIDSS test is scored)")
    parser.add_argument("--checkpoint", required=True, help="checkpoint folder (a run's best/)")
    parser.add_argument("--n", type=int, metavar="N",
                        help="score at most N galaxies, the first in simulation order "
                             "(default: every UKIDSS test galaxy)")
    parser.add_argument("--out", metavar="FILE.json", help="also write the attribution as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ...simulator.studies.attribution import attribution_table, write_attribution
    from ..attribution import attribute_checkpoint

    result = attribute_checkpoint(args.sim, args.data, args.checkpoint, args.n,
                                  progress=not args.quiet)
    print(attribution_table(result))
    if args.out:
        write_attribution(result, args.out)
        print(f"\nwrote {args.out}")
    return 0
