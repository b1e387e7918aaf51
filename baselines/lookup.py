"""Name -> entry lookups for the baselines' registries, with an error that lists the choices.

Every choice a config makes (baseline kind, loss, pooling, output, backbone training mode) is
a key of a plain dict; this is the one place that turns a bad key into a clear message.
"""

from __future__ import annotations

from typing import Mapping, TypeVar

from benchmark.errors import SommelierError

T = TypeVar("T")


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """`registry[name]`, or a `SommelierError` naming the valid choices."""
    try:
        return registry[name]
    except KeyError:
        choices = ", ".join(registry)
        raise SommelierError(f"unknown {what} {name!r}; choose from {choices}") from None
