"""The throughput script runs a config's training modes, inference and loaders in one command
(here a tiny config on the CPU, a handful of steps)."""

from __future__ import annotations

import json

from baselines.throughput import main
from tests.baselines_support import tiny_raw, write_config


def test_one_command_times_training_inference_and_the_loader(tmp_path, capsys):
    config = write_config(tmp_path / "tiny.yaml", tiny_raw(tmp_path / "cache"))
    out = tmp_path / "figures.json"
    assert main([str(config), "--steps", "2", "--warmup", "1", "--workers", "0", "1",
                 "--images", "16", "--json", str(out)]) == 0
    (report,) = json.loads(out.read_text())
    assert set(report["train"]) == {"frozen", "full"}
    rates = [*report["train"].values(), report["inference"], report["decode_per_worker"],
             report["batches_per_worker"], *report["decode"].values(),
             *report["epoch_loader"].values()]
    assert all(rate > 0 for rate in rates) and set(report["decode"]) == {"0", "1"}
    printed = capsys.readouterr().out
    assert "train, full backbone" in printed and "per worker (1 thread)" in printed


def test_a_config_without_stages_is_one_line(capsys):
    assert main(["constant-sdss"]) == 1
    assert capsys.readouterr().err.strip() == (
        "throughput: error: config 'constant-sdss' has no training stages to time")
