"""`sommelier leaderboard`: render every entry's results as table, JSON, page and plot."""

from __future__ import annotations

import argparse

HELP = "Rank the evaluated submissions and write the leaderboard (Markdown, JSON, HTML, PNG)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--submissions", default="submissions", metavar="DIR",
                        help="folder of entries, one sub-folder each (default %(default)s/)")
    parser.add_argument("--out", default="leaderboard", metavar="DIR",
                        help="where to write the outputs (default %(default)s/)")


def run(args: argparse.Namespace) -> int:
    from ..leaderboard import write_leaderboard

    for path in write_leaderboard(args.submissions, args.out).values():
        print(f"wrote {path}")
    return 0
