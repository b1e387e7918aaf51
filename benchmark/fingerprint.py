"""Content fingerprints: which truth data a score was computed on, and whether an entry's
files changed since it was evaluated. Independent of row order, file timestamps and paths."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))  # length-prefixed: no ambiguous joins
        h.update(part)
    return "sha256:" + h.hexdigest()


def table_fingerprint(ids: Iterable[str], columns: Mapping[str, np.ndarray]) -> str:
    """Fingerprint of a table already sorted by id: its ids, column names and float64 values."""
    def parts():
        yield "\n".join(ids).encode("utf-8")
        for name, values in columns.items():
            yield name.encode("utf-8")
            yield np.ascontiguousarray(values, dtype="<f8").tobytes()
    return _digest(parts())


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of one file, read in chunks (a shard can be larger than memory allows)."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def files_fingerprint(root: Path, paths: Iterable[Path]) -> str:
    """Fingerprint of files by their path relative to `root` and their bytes."""
    def parts():
        for path in sorted(paths):
            yield path.relative_to(root).as_posix().encode("utf-8")
            yield path.read_bytes()
    return _digest(parts())
