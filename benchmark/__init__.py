"""Galaxy Sommelier: an out-of-distribution benchmark for galaxy-morphology models.

The public API, for notebooks and scripts (see docs/api.md)::

    import benchmark
    test = benchmark.load_split(DATA, "ukidss", "test")       # a datasets.Dataset
    results = benchmark.score(predictions_df, data=DATA)      # UKIDSS test by default
    results.primary, results.per_feature, results.table()

Attributes are imported on first use, so `import benchmark` (and the CLI) stays instant and
scoring never imports torch, transformers or `datasets` until data is actually loaded.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.3.0"

#: public name -> (module, attribute)
_API: dict[str, tuple[str, str]] = {
    "FEATURES": ("benchmark.registry", "BENCHMARK_FEATURES"),
    "QUESTIONS": ("benchmark.registry", "BENCHMARK_QUESTIONS"),
    "SommelierError": ("benchmark.errors", "SommelierError"),
    "ValidationError": ("benchmark.errors", "ValidationError"),
    "load_split": ("benchmark.dataset.load", "load_split"),
    "load_truth": ("benchmark.dataset.load", "load_truth"),
    "score": ("benchmark.evaluation.results", "score"),
    "Results": ("benchmark.evaluation.results", "Results"),
    "evaluate_entry": ("benchmark.evaluation.entry", "evaluate_entry"),
    "write_entry": ("benchmark.evaluation.writer", "write_entry"),
    "sample_submission": ("benchmark.evaluation.writer", "sample_submission"),
    "write_leaderboard": ("benchmark.leaderboard.write", "write_leaderboard"),
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'benchmark' has no attribute {name!r}")
    module, attribute = _API[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
