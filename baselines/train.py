"""`train(config, data, seed, out) -> checkpoint`: the one entry point for every baseline kind."""

from __future__ import annotations

from pathlib import Path

from .config import Config, load_config
from .kinds import KINDS
from .lookup import lookup
from .run import resolve


def train(config: Config | str | Path, data: str | None = None, seed: int = 0,
          out: str | Path | None = None) -> Path:
    """Train (or resume) one run and return its final checkpoint folder.

    `config` is a `Config`, a YAML path or a bundled config's name; `data` a benchmark folder or
    Hub id (default: the config's `data.dataset`); `out` the run folder (default
    `runs/<config>-seed<seed>`). Running again in the same folder resumes or returns the result.
    """
    if not isinstance(config, Config):
        config = load_config(config)
    kind = lookup(KINDS, config.kind, "baseline kind")
    return kind.fit(resolve(config, data, seed, out))
