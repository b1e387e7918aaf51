"""`sommelier sample`: a valid constant prediction file for every galaxy of a split."""

from __future__ import annotations

import argparse

HELP = ("Write a sample prediction file (every id of a split, a valid constant prediction): "
        "the shape a submission's files must have.")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="benchmark folder or Hub id")
    parser.add_argument("--survey", default="ukidss", help="survey (default %(default)s)")
    parser.add_argument("--split", default="test", help="split (default %(default)s)")
    parser.add_argument("--revision", help="dataset revision (Hub)")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="where to write it (.parquet or .csv)")


def run(args: argparse.Namespace) -> int:
    from ...evaluation.writer import sample_submission
    from ...tables import write_table

    frame = sample_submission(args.data, args.survey, args.split, args.revision)
    write_table(frame, args.out)
    print(f"wrote {len(frame)} rows to {args.out}")
    return 0
