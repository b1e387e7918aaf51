"""User-facing errors: what went wrong, where, and how to fix it.

The CLI prints a `SommelierError` as one clear message and exits non-zero; any other exception
is a bug in this package and keeps its traceback.
"""

from __future__ import annotations


class SommelierError(Exception):
    """Bad input or a failed step the user can fix."""

    exit_code = 2


class ValidationError(SommelierError):
    """A submission, table or dataset does not follow the benchmark's format."""


class ArgumentError(SommelierError):
    """A bad value of one named argument. The message names the Python argument
    (`min_votes must be >= 0`); the CLI shows the same message with its flag (`--min-votes`)."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"{argument} {problem}")
        self.argument, self.problem = argument, problem

    def for_cli(self) -> str:
        return f"--{self.argument.replace('_', '-')} {self.problem}"
