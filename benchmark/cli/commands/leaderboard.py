"""`sommelier leaderboard`: render every entry's results as table, JSON, page and plot."""

from __future__ import annotations

import argparse
import sys

HELP = "Rank the evaluated submissions and write the leaderboard (Markdown, JSON, HTML, PNG)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--submissions", default="submissions", metavar="DIR",
                        help="folder of entries, one sub-folder each (default %(default)s/)")
    parser.add_argument("--out", default="leaderboard", metavar="DIR",
                        help="where to write the outputs (default %(default)s/)")
    parser.add_argument("--readme", metavar="FILE",
                        help="also put the table into FILE between its leaderboard markers")
    parser.add_argument("--data-root", metavar="DIR",
                        help="folder holding the datasets the entries name (DIR/<dataset>); "
                             "otherwise each name is a folder or Hub id")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 naming every committed results.json, "
                             "leaderboard output or README table that differs from a fresh "
                             "scoring")


def run(args: argparse.Namespace) -> int:
    from ...leaderboard.write import stale_outputs, update_readme, write_leaderboard

    if args.check:
        stale = stale_outputs(args.submissions, args.out, args.readme, data_root=args.data_root)
        for path in stale:
            print(f"stale: {path} differs from a fresh scoring", file=sys.stderr)
        if stale:
            print("run `make leaderboard` (or `sommelier leaderboard` without --check) and "
                  "commit the result", file=sys.stderr)
            return 1
        print("leaderboard, results and README table match a fresh scoring")
        return 0
    paths = write_leaderboard(args.submissions, args.out, data_root=args.data_root)
    for path in paths.values():
        print(f"wrote {path}")
    if args.readme:
        update_readme(args.readme, paths["markdown"].read_text(encoding="utf-8"))
        print(f"updated the leaderboard in {args.readme}")
    return 0
