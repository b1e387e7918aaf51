"""`sommelier train`: train (or resume) one reference baseline from a YAML config."""

from __future__ import annotations

import argparse

HELP = "train a reference baseline from a config (one process, or several under torchrun)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True,
                        help="config YAML, or the name of a bundled one (e.g. tiny-cpu-sdss)")
    parser.add_argument("--data", help="benchmark folder or Hub id (default: the config's)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", help="run folder (default runs/<config>-seed<seed>); "
                                      "an interrupted run resumes there")


def run(args: argparse.Namespace) -> int:
    from ..models import train

    checkpoint = train(args.config, data=args.data, seed=args.seed, out=args.out)
    print(checkpoint)
    return 0
