"""`sommelier leaderboard`: render every entry's results as table, JSON, page and plot."""

from __future__ import annotations

import argparse

HELP = "Rank the evaluated submissions and write the leaderboard (Markdown, JSON, HTML, PNG)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--submissions", default="submissions", metavar="DIR",
                        help="folder of entries, one sub-folder each (default %(default)s/)")
    parser.add_argument("--out", default="leaderboard", metavar="DIR",
                        help="where to write the outputs (default %(default)s/)")
    parser.add_argument("--readme", metavar="FILE",
                        help="also put the table into FILE between its leaderboard markers")


def run(args: argparse.Namespace) -> int:
    from ...leaderboard.write import update_readme, write_leaderboard

    paths = write_leaderboard(args.submissions, args.out)
    for path in paths.values():
        print(f"wrote {path}")
    if args.readme:
        update_readme(args.readme, paths["markdown"].read_text(encoding="utf-8"))
        print(f"updated the leaderboard in {args.readme}")
    return 0
