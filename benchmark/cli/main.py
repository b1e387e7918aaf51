"""The `sommelier` command line.

Each subcommand is one module in `benchmark.cli.commands` defining `HELP`, `configure(parser)` and
`run(args) -> int`; adding a command is adding a module. Bad input surfaces as a
`SommelierError`: one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Iterable

from .. import __version__
from . import commands
from ..errors import ArgumentError, SommelierError


def command_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))


def build_parser(configure: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the commands in `configure` (default: all) get their options, so a
    run pays for the imports of its own command only (`sim`'s help lists the simulator's
    shifts, which imports NumPy)."""
    names = command_names()
    wanted = set(names if configure is None else configure)
    parser = argparse.ArgumentParser(
        prog="sommelier",
        description="Galaxy Sommelier: out-of-distribution benchmark for galaxy morphology.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in names:
        module = importlib.import_module(f"{commands.__name__}.{name}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        if name in wanted:
            module.configure(cmd)
            cmd.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(configure=argv[:1]).parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SommelierError as exc:
        message = exc.for_cli() if isinstance(exc, ArgumentError) else str(exc)
        print(f"sommelier {args.command}: error: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"sommelier {args.command}: interrupted", file=sys.stderr)
        return 130

