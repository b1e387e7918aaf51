"""Sweeps: configs x seeds trained, predicted and collected into one entry per config, on the
local launcher and on Slurm's (submitit's local executor); bad input is one line."""

from __future__ import annotations

import sys

import pytest
import yaml

from baselines.sweep import Job, plan, sweep, torchrun_command
from benchmark.cli.main import main
from benchmark.evaluation.submission import load_submission, prediction_files
from tests.baselines_support import bench, cache, tiny_raw, write_config  # noqa: F401 (fixtures)

# submitit binds logging handlers to sys.stdout/stderr when first imported: imported here, at
# collection, they hold pytest's session streams, not one test's capture (closed after it, which
# broke every later test of the worker).
submitit = pytest.importorskip("submitit")

HEAD_ONLY = [{"name": "head", "backbone": "frozen", "epochs": 1, "head_lr": 1e-2}]


@pytest.fixture(scope="module")
def config(tmp_path_factory, cache):  # noqa: F811
    return write_config(tmp_path_factory.mktemp("sweep") / "tiny.yaml",
                        tiny_raw(cache, stages=HEAD_ONLY))


def _check_entry(entry, seeds):
    sub = load_submission(entry)
    assert list(sub.seeds) == seeds
    assert [(f.key, f.seed) for f in prediction_files(sub)] == [("ukidss/test", s) for s in seeds]
    return yaml.safe_load((entry / "submission.yaml").read_text())


def test_the_cli_sweeps_seeds_into_one_entry(tmp_path, capsys, bench, config):  # noqa: F811
    out = tmp_path / "sweep"
    assert main(["sweep", str(config), "--seeds", "0", "1", "--data", str(bench),
                 "--out", str(out)]) == 0
    entry = out / "entries" / "tiny-test"
    assert capsys.readouterr().out.split() == [str(entry)]
    info = _check_entry(entry, [0, 1])
    assert info["status"] == "verified" and info["training_surveys"] == ["sdss"]
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["tiny-test-seed0",
                                                                "tiny-test-seed1"]


def test_slurm_jobs_run_through_submitit(tmp_path, bench, config):  # noqa: F811
    from baselines.sweep import Options

    out = tmp_path / "sweep"
    entries = sweep([str(config)], [0, 2], str(bench), launcher="slurm", out=out,
                    options=Options(cluster="local", time=10))
    assert entries == [(out / "entries" / "tiny-test").resolve()]
    _check_entry(entries[0], [0, 2])
    assert any((out / "slurm").rglob("*_log.out"))  # submitit's job logs


def test_torchrun_trains_each_job_with_this_interpreter(tmp_path):
    job = Job("/c.yaml", "c", 3, "/data", ("ukidss:test",), tmp_path / "run", tmp_path / "s")
    command = torchrun_command(job, 4)
    assert command[:5] == [sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node=4"]
    assert command[5:] == ["-m", "benchmark.cli", "train", "--config", "/c.yaml", "--data",
                           "/data", "--seed", "3", "--out", str(tmp_path / "run")]


def test_jobs_hold_absolute_paths(tmp_path, monkeypatch, bench, config):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    jobs = plan([str(config)], [0], str(bench), tmp_path.relative_to(tmp_path) / "s",
                ["ukidss:test"])
    assert [j.run for j in jobs] == [tmp_path / "s" / "runs" / "tiny-test-seed0"]
    assert jobs[0].staged.is_absolute() and jobs[0].data == str(bench.resolve())


@pytest.mark.parametrize("args, message", [
    (["--seeds", "0", "0"], "seeds must be distinct"),
    (["--seeds", "-1"], "seeds must be distinct non-negative"),
    (["--launcher", "pbs"], "unknown launcher 'pbs'; choose from local, torchrun, slurm"),
    (["--split", "ukidss-test"], "a split is written survey:split"),
    (["--nproc", "0"], "--nproc must be at least 1"),
    (["--launcher", "slurm"], "sbatch is not on PATH"),
])
def test_bad_input_is_one_line(tmp_path, capsys, monkeypatch, bench, config, args,  # noqa: F811
                               message):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch
    code = main(["sweep", str(config), "--data", str(bench), "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # refused before anything ran


def test_unknown_and_colliding_configs_are_refused(tmp_path, capsys, bench, config):  # noqa: F811
    assert main(["sweep", "no-such-config", "--data", str(bench)]) != 0
    assert "no config 'no-such-config'; bundled configs:" in capsys.readouterr().err
    twin = write_config(tmp_path / "twin.yaml", yaml.safe_load(config.read_text()))
    assert main(["sweep", str(config), str(twin), "--data", str(bench)]) != 0
    assert "both named 'tiny-test'" in capsys.readouterr().err
