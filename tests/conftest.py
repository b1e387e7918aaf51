"""Shared test fixtures. `SHARED` is the ../shared folder beside the checkout (may be absent)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def pytest_configure(config):
    """Scores are cached per test session, never in the user's cache."""
    import os
    import tempfile

    os.environ.setdefault("SOMMELIER_CACHE", tempfile.mkdtemp(prefix="sommelier-cache-"))
