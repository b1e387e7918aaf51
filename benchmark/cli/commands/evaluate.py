"""`sommelier evaluate`: validate and score a whole entry; writes ENTRY_DIR/results.json."""

from __future__ import annotations

import argparse
import sys

from ._scoring import add_scoring_options, options_from

HELP = "Validate and score a submission folder against the benchmark; writes results.json."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("entry", metavar="ENTRY_DIR",
                        help="submissions/<slug>: submission.yaml and predictions/")
    parser.add_argument("--data", metavar="DATASET",
                        help="benchmark dataset: a local folder or Hub id (default: the "
                             "entry's 'dataset' field)")
    add_scoring_options(parser)


def run(args: argparse.Namespace) -> int:
    from ...evaluation.display import summary_table
    from ...evaluation.entry import evaluate_entry
    from ...evaluation.submission import RESULTS_FILE

    results = evaluate_entry(args.entry, args.data, options_from(args))
    for warning in results["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    for key, evaluation in results["evaluations"].items():
        print(f"\n{key} (seeds {', '.join(map(str, evaluation['seeds']))})")
        print(summary_table(evaluation["summary"]))
    print(f"\nwrote {args.entry.rstrip('/')}/{RESULTS_FILE}")
    return 0
