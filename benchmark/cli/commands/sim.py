"""`sommelier sim`: simulate SDSS, DECaLS and UKIDSS Galaxy Zoo releases of one population."""

from __future__ import annotations

import argparse

HELP = ("Simulate one galaxy population seen by SDSS, DECaLS and UKIDSS, written as "
        "upstream-style Galaxy Zoo releases (gz2, gz_decals, gz_ukidss) plus truth and id map.")


def configure(parser: argparse.ArgumentParser) -> None:
    from ...simulator.shifts import ALL, NONE, SHIFTS  # NumPy: only when `sim` is run

    parser.add_argument("--out", required=True, help="output folder (written atomically)")
    parser.add_argument("--n", type=int, default=1500, help="number of galaxies (default 1500)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--image-size", type=int, default=64,
                        help="JPEG side in pixels (real releases: 424; default 64)")
    shift_help = "; ".join(f"{s.name}: {s.description}" for s in SHIFTS.values())
    parser.add_argument("--shift", action="append", metavar="NAME",
                        help=f"a survey difference to keep on (repeatable; default '{ALL}', "
                             f"'{NONE}' for none). {shift_help}")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ...simulator.shifts import ALL
    from ...simulator.writer import simulate

    out = simulate(args.out, n=args.n, seed=args.seed, image_size=args.image_size,
                   shifts=args.shift or (ALL,), progress=not args.quiet)
    print(out)
    return 0
