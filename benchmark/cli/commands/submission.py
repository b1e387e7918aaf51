"""`sommelier submission check`: what CI runs on a pull request that adds an entry."""

from __future__ import annotations

import argparse
import os
import sys

HELP = ("Check a submission folder as CI does: only submission.yaml and prediction files, "
        "valid, scored against the dataset it names; prints its table.")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help=HELP, description=HELP)
    check.add_argument("entry", metavar="ENTRY_DIR", help="submissions/<slug>")
    check.add_argument("--data-root", metavar="DIR",
                       help="folder holding the dataset the entry names (DIR/<dataset>)")
    check.add_argument("--summary", metavar="FILE", default=os.environ.get("GITHUB_STEP_SUMMARY"),
                       help="also append the table as Markdown to FILE (default: "
                            "$GITHUB_STEP_SUMMARY, the job summary on GitHub Actions)")


def run(args: argparse.Namespace) -> int:
    from ...evaluation.display import summary_table
    from ...leaderboard.submit import check_entry

    checked = check_entry(args.entry, data_root=args.data_root)
    for warning in checked.results["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    markdown = [f"### {checked.slug}: passes the checks"]
    for key, evaluation in checked.results["evaluations"].items():
        title = f"{key} (seeds {', '.join(map(str, evaluation['seeds']))})"
        print(f"\n{title}\n{summary_table(evaluation['summary'])}")
        markdown.append(f"#### {title}\n\n{summary_table(evaluation['summary'], 'github')}")
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as fh:
            fh.write("\n\n".join(markdown) + "\n")
    print(f"\n{checked.slug}: ok")
    return 0
