"""Shared test fixtures. `SHARED` is the ../shared folder beside the checkout (may be absent)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
