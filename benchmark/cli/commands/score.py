"""`sommelier score`: one prediction file against any labelled table."""

from __future__ import annotations

import argparse
import sys

from ._scoring import add_scoring_options, options_from

HELP = "Score one prediction file against a labelled table (CSV or Parquet)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--truth", required=True, metavar="FILE",
                        help="labels: id_str and <feature>_fraction columns (null = not asked), "
                             "optionally <question>_total_votes")
    parser.add_argument("--predictions", required=True, metavar="FILE",
                        help="id_str and the nine feature columns, values in [0, 1]")
    add_scoring_options(parser)
    parser.add_argument("--legacy", action="store_true",
                        help="also compute the original study's metrics (nulls as 0, no vote "
                             "mask, flattened r and its square)")
    parser.add_argument("--json", metavar="OUT", help="write the full result as JSON to OUT")


def run(args: argparse.Namespace) -> int:
    from ...evaluation.display import legacy_table, summary_table
    from ...evaluation.scoring import score_files
    from ...jsonfile import write_json

    report = score_files(args.truth, args.predictions, options_from(args, legacy=args.legacy))
    for warning in report["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    print(summary_table(report))
    if args.legacy:
        print("\nlegacy (original study definitions):")
        print(legacy_table(report["legacy"]))
    if args.json:
        write_json(args.json, report)
    return 0
