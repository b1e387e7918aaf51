"""Speed of a full leaderboard regeneration: 50 entries x 3 seeds on a UKIDSS-sized test
(70,845 galaxies, B = 1000), cold (every entry scored) and warm (every score from the cache),
against the reference of scoring one seed of one entry in the same run.

Measure with `make bench PYTEST_ARGS=tests/test_perf_leaderboard.py`; the data takes about a
minute to write, so these run only with --benchmark-only.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.dataset.load import load_truth
from benchmark.evaluation import metrics as M
from benchmark.evaluation.entry import dataset_truths, entry_truths, load_verified, score_entry
from benchmark.evaluation.options import ScoreOptions
from benchmark.leaderboard.board import collect
from tests.fakes import write_fake_benchmark
from tests.scoring_fakes import metadata, predictions_for, write_entry

N, ENTRIES, SEEDS = 70_845, 50, 3
GROUP = "leaderboard: 50 entries x 3 seeds, 70,845 galaxies, B=1000"


@pytest.fixture(scope="module")
def board_inputs(request, tmp_path_factory):
    if not request.config.getoption("benchmark_only"):
        pytest.skip("writes 150 UKIDSS-sized prediction files; timed with --benchmark-only")
    root = tmp_path_factory.mktemp("perf-board")
    write_fake_benchmark(root / "data" / "big", {("ukidss", "test"): N}, seed=11)
    truth = load_truth(str(root / "data" / "big"), "ukidss", "test")
    for e in range(ENTRIES):
        write_entry(root / "subs" / f"e{e:02d}", metadata(name=f"Entry {e}", dataset="big",
                                                          seeds=list(range(SEEDS))),
                    {f"ukidss-test-seed{s}.parquet": predictions_for(truth, 0.05 + 0.005 * e,
                                                                     seed=100 * e + s)
                     for s in range(SEEDS)})
    return root


def _cold_board(root):
    M.forget_bootstrap_counts()
    return collect(root / "subs", data_root=root / "data")


@pytest.mark.benchmark(group=GROUP)
def test_reference_one_seed_of_one_entry(benchmark, board_inputs, monkeypatch):
    sub = load_verified(board_inputs / "subs" / "e00")
    truths = entry_truths(sub, dataset_truths(str(board_inputs / "data" / "big"), 20))
    one = ScoreOptions()

    def run():
        M.forget_bootstrap_counts()
        return score_entry(sub, truths, one, "big")
    benchmark.pedantic(run, rounds=3, iterations=1)


@pytest.mark.benchmark(group=GROUP)
def test_cold_regeneration(benchmark, board_inputs, monkeypatch, tmp_path):
    monkeypatch.setenv("SOMMELIER_CACHE", "off")
    board = benchmark.pedantic(_cold_board, args=(board_inputs,), rounds=1, iterations=1)
    assert sum(len(rows) for rows in board.groups[0].tracks.values()) == ENTRIES


@pytest.mark.benchmark(group=GROUP)
def test_warm_regeneration(benchmark, board_inputs, monkeypatch, tmp_path):
    monkeypatch.setenv("SOMMELIER_CACHE", str(tmp_path / "cache"))
    cold = _cold_board(board_inputs)  # fills the cache
    warm = benchmark.pedantic(_cold_board, args=(board_inputs,), rounds=3, iterations=1)
    first = [r.primary for rows in cold.groups[0].tracks.values() for r in rows]
    assert [r.primary for rows in warm.groups[0].tracks.values() for r in rows] == first
    assert np.isfinite(first).all()
