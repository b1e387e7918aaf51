"""`sommelier predict`: a trained baseline's predictions as a submission entry."""

from __future__ import annotations

import argparse

HELP = "write a checkpoint's predictions and submission.yaml into a submission entry"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="checkpoint folder (a run's best/)")
    parser.add_argument("--data", required=True, help="benchmark folder or Hub id")
    parser.add_argument("--split", action="append", required=True, dest="splits",
                        metavar="SURVEY:SPLIT", help="e.g. ukidss:test; repeat for more")
    parser.add_argument("--entry", required=True, help="entry folder, e.g. submissions/<slug>")
    parser.add_argument("--seed", type=int,
                        help="seed the files are named for (default: the training seed)")
    parser.add_argument("--revision", help="dataset revision (Hub)")
    parser.add_argument("--batch-size", type=int, default=64)


def run(args: argparse.Namespace) -> int:
    from ..models import predict

    for path in predict(args.checkpoint, args.data, args.splits, args.entry, args.seed,
                        batch_size=args.batch_size, revision=args.revision):
        print(path)
    return 0
