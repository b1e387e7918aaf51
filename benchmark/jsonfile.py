"""JSON in and out for results and leaderboards: same data, same bytes.

Floats are rounded to 10 significant digits (far below any bootstrap interval, and enough to
hide last-bit differences between BLAS builds); NaN becomes null; numpy scalars become Python.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_text
from .errors import SommelierError, ValidationError

SIGNIFICANT_DIGITS = 10


def plain(obj: Any) -> Any:
    """`obj` with numpy values as Python values, floats rounded and NaN/inf as None."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}") if math.isfinite(value) else None
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(plain(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write `dumps(obj)` atomically; an unwritable place is the user's to fix, not a crash."""
    try:
        write_text(path, dumps(obj))
    except OSError as exc:
        raise SommelierError(f"cannot write {path}: {exc.strerror or exc}") from exc


def read_json(path: str | os.PathLike, *, what: str) -> Any:
    """Parse a JSON file, turning every failure into a clear `ValidationError`."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{what} {path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{what} {path}: not valid JSON ({exc})") from exc
