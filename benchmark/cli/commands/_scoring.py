"""Options shared by `score` and `evaluate` (a leading underscore: not a subcommand)."""

from __future__ import annotations

import argparse

from ...evaluation.options import DEFAULT_BOOTSTRAP, DEFAULT_MIN_VOTES, ScoreOptions


def add_scoring_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--min-votes", type=int, default=DEFAULT_MIN_VOTES, metavar="K",
                        help="score a feature only where its question had at least K votes, "
                             "when the truth has vote totals (default %(default)s; 0 = all)")
    parser.add_argument("--bootstrap", type=int, default=DEFAULT_BOOTSTRAP, metavar="B",
                        help="bootstrap draws for the 95%% intervals (default %(default)s; "
                             "0 = none)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="seed of the bootstrap draws (default %(default)s)")


def options_from(args: argparse.Namespace, legacy: bool = False) -> ScoreOptions:
    return ScoreOptions(min_votes=args.min_votes, bootstrap=args.bootstrap, seed=args.seed,
                        legacy=legacy)
